"""The report queue: bounded, each report expiring after the retention limit.

A report holds what moderators need to judge it (the reported text, the room's last few
messages, the reason and an optional note) and, internally, the reported session's id so
an action can reach it. Nothing identifies the reporter. Twins: memory (here) and Redis
(:mod:`.redis`), both behind :class:`ReportStore`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol


class ReportStore(Protocol):
    async def add(self, report_id: str, report: bytes) -> None:
        """Queue a report (MessagePack); the oldest are dropped past the bound."""

    async def next(self) -> tuple[str, bytes] | None:
        """Take the oldest open report; it stays readable by id until it expires."""

    async def get(self, report_id: str) -> bytes | None: ...

    async def close_report(self, report_id: str) -> None: ...

    async def aclose(self) -> None: ...


class MemoryReportStore:
    def __init__(
        self,
        *,
        limit: int = 1000,
        retention: float = 72 * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limit = limit
        self.retention = retention
        self._clock = clock
        self._queue: OrderedDict[str, None] = OrderedDict()
        self._reports: dict[str, tuple[float, bytes]] = {}

    def _expire(self) -> None:
        now = self._clock()
        for report_id in [r for r, (until, _) in self._reports.items() if until < now]:
            del self._reports[report_id]
            self._queue.pop(report_id, None)

    async def add(self, report_id: str, report: bytes) -> None:
        self._expire()
        self._reports[report_id] = (self._clock() + self.retention, report)
        self._queue[report_id] = None
        while len(self._queue) > self.limit:
            oldest, _ = self._queue.popitem(last=False)
            self._reports.pop(oldest, None)

    async def next(self) -> tuple[str, bytes] | None:
        self._expire()
        while self._queue:
            report_id, _ = self._queue.popitem(last=False)
            item = self._reports.get(report_id)
            if item is not None:
                return report_id, item[1]
        return None

    async def get(self, report_id: str) -> bytes | None:
        self._expire()
        item = self._reports.get(report_id)
        return None if item is None else item[1]

    async def close_report(self, report_id: str) -> None:
        self._reports.pop(report_id, None)
        self._queue.pop(report_id, None)

    async def aclose(self) -> None:
        self._reports.clear()
        self._queue.clear()
