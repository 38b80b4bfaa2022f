"""Session snapshots in Redis, shared by every node: SET with a TTL, GETDEL to take."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from chatserver.broker.base import BrokerUnavailable
from chatserver.broker.redis import parse_url

PREFIX = "sess:"
POOL_SIZE = 20


class RedisSessionStore:
    def __init__(self, url: str) -> None:
        address, cluster = parse_url(url)
        self._slots = asyncio.Semaphore(POOL_SIZE)
        self._redis: Any = (
            RedisCluster.from_url(address, max_connections=POOL_SIZE)
            if cluster
            else Redis.from_url(address, max_connections=POOL_SIZE)
        )

    async def _do(self, *command: Any) -> Any:
        try:
            async with self._slots:  # wait for a pooled connection instead of failing
                return await self._redis.execute_command(*command)
        except (RedisError, OSError) as exc:
            raise BrokerUnavailable(f"session store: {type(exc).__name__}") from exc

    async def save(self, key: str, snapshot: bytes, ttl: float) -> None:
        await self._do("SET", PREFIX + key, snapshot, "PX", max(1, int(ttl * 1000)))

    async def take(self, key: str) -> bytes | None:
        value = await self._do("GETDEL", PREFIX + key)
        return bytes(value) if value is not None else None

    async def delete(self, key: str) -> None:
        await self._do("DEL", PREFIX + key)

    async def close(self) -> None:
        await self._redis.aclose()
