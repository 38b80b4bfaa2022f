"""The report queue in Redis: a bounded list of ids, each report a key with a TTL."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from chatserver.broker.base import BrokerUnavailable
from chatserver.broker.redis import parse_url

QUEUE = "{mod}:queue"
PREFIX = "{mod}:r:"
POOL_SIZE = 10


class RedisReportStore:
    def __init__(self, url: str, *, limit: int = 1000, retention: float = 72 * 3600) -> None:
        address, cluster = parse_url(url)
        self._slots = asyncio.Semaphore(POOL_SIZE)
        self._redis: Any = (
            RedisCluster.from_url(address, max_connections=POOL_SIZE)
            if cluster
            else Redis.from_url(address, max_connections=POOL_SIZE)
        )
        self.limit = limit
        self.retention = retention

    async def _do(self, *command: Any) -> Any:
        try:
            async with self._slots:  # wait for a pooled connection instead of failing
                return await self._redis.execute_command(*command)
        except (RedisError, OSError) as exc:
            raise BrokerUnavailable(f"report store: {type(exc).__name__}") from exc

    async def add(self, report_id: str, report: bytes) -> None:
        await self._do("SET", PREFIX + report_id, report, "EX", max(1, int(self.retention)))
        await self._do("RPUSH", QUEUE, report_id)
        await self._do("LTRIM", QUEUE, -self.limit, -1)
        await self._do("EXPIRE", QUEUE, max(1, int(self.retention)))

    async def next(self) -> tuple[str, bytes] | None:
        for _ in range(self.limit):
            raw = await self._do("LPOP", QUEUE)
            if raw is None:
                return None
            report_id = raw.decode() if isinstance(raw, bytes) else str(raw)
            report = await self._do("GET", PREFIX + report_id)
            if report is not None:
                return report_id, bytes(report)
        return None

    async def get(self, report_id: str) -> bytes | None:
        report = await self._do("GET", PREFIX + report_id)
        return None if report is None else bytes(report)

    async def close_report(self, report_id: str) -> None:
        await self._do("DEL", PREFIX + report_id)

    async def aclose(self) -> None:
        await self._redis.aclose()
