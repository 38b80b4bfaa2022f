"""The report queue in Redis: a bounded list of ids, each report a key with a TTL.

Adding is one script, so the queue and its reports never disagree: a report pushed out
past the bound is deleted with its id, as in the memory twin (nothing is kept that the
queue no longer offers). Every key shares one hash tag, so it runs on a cluster too.
"""

from __future__ import annotations

from chatserver.redis_store import RedisStore

#: KEYS: queue. ARGV: report id, report, retention (ms), limit, report key prefix.
_ADD = """
redis.call('SET', ARGV[5] .. ARGV[1], ARGV[2], 'PX', ARGV[3])
redis.call('RPUSH', KEYS[1], ARGV[1])
while redis.call('LLEN', KEYS[1]) > tonumber(ARGV[4]) do
  local oldest = redis.call('LPOP', KEYS[1])
  if oldest ~= ARGV[1] then redis.call('DEL', ARGV[5] .. oldest) end
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 0
"""


class RedisReportStore(RedisStore):
    what = "report store"

    def __init__(
        self,
        url: str,
        *,
        limit: int = 1000,
        retention: float = 72 * 3600,
        tag: str = "{mod}",
    ) -> None:
        """``tag``: the hash tag every key starts with (tests give each store its own)."""
        super().__init__(url, pool_size=10)
        self.limit = limit
        self.retention = retention
        self._queue = tag + ":queue"
        self._prefix = tag + ":r:"
        self._add = self._redis.register_script(_ADD)

    async def add(self, report_id: str, report: bytes) -> None:
        ms = max(1, int(self.retention * 1000))
        args = [report_id, report, ms, self.limit, self._prefix]
        await self._guarded(lambda: self._add(keys=[self._queue], args=args))

    async def next(self) -> tuple[str, bytes] | None:
        for _ in range(self.limit):
            raw = await self._do("LPOP", self._queue)
            if raw is None:
                return None
            report_id = raw.decode() if isinstance(raw, bytes) else str(raw)
            report = await self._do("GET", self._prefix + report_id)
            if report is not None:
                return report_id, bytes(report)
        return None

    async def get(self, report_id: str) -> bytes | None:
        report = await self._do("GET", self._prefix + report_id)
        return None if report is None else bytes(report)

    async def close_report(self, report_id: str) -> None:
        await self._do("DEL", self._prefix + report_id)
