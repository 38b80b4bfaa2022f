"""The report queue in Redis: a bounded list of ids, each report a key with a TTL."""

from __future__ import annotations

from chatserver.redis_store import RedisStore

QUEUE = "{mod}:queue"
PREFIX = "{mod}:r:"


class RedisReportStore(RedisStore):
    what = "report store"

    def __init__(self, url: str, *, limit: int = 1000, retention: float = 72 * 3600) -> None:
        super().__init__(url, pool_size=10)
        self.limit = limit
        self.retention = retention

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
