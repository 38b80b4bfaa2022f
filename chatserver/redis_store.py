"""The small Redis client shared by the stores beside the broker (pairing, session
snapshots, reports): one pool per store, a semaphore so callers wait for a connection
(redis-py >= 8 raises ``MaxConnectionsError`` past the pool instead of waiting), and
Redis errors translated at this edge into :class:`BrokerUnavailable`, chained."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from chatserver.broker.base import BrokerUnavailable
from chatserver.broker.redis_wire import parse_url


class RedisStore:
    """Base of the Redis twins of the stores: ``_do`` runs one command, guarded."""

    #: a name for errors ("pairing store")
    what = "store"

    def __init__(self, url: str, pool_size: int = 20) -> None:
        address, cluster = parse_url(url)
        self._redis: Any = (
            RedisCluster.from_url(address, max_connections=pool_size)
            if cluster
            else Redis.from_url(address, max_connections=pool_size)
        )
        self._slots = asyncio.Semaphore(pool_size)

    async def _guarded(self, call: Any) -> Any:
        try:
            async with self._slots:
                return await call()
        except (RedisError, OSError) as exc:
            raise BrokerUnavailable(f"{self.what}: {type(exc).__name__}") from exc

    async def _do(self, *command: Any) -> Any:
        return await self._guarded(lambda: self._redis.execute_command(*command))

    async def aclose(self) -> None:
        await self._redis.aclose()
