"""Session snapshots in this process (the embedded broker: one node, so no sharing)."""

from __future__ import annotations

import time
from collections.abc import Callable

from chatserver.resume.base import MARKER, TAKEN, Taken


class MemorySessionStore:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._data: dict[str, tuple[float, bytes]] = {}

    async def save(self, key: str, snapshot: bytes, ttl: float) -> bool:
        if self._live(key) == MARKER:
            return False
        self._data[key] = (self._clock() + ttl, snapshot)
        if len(self._data) % 1024 == 0:
            self._expire()
        return True

    def _live(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None or item[0] < self._clock():
            return None
        return item[1]

    def _expire(self) -> None:
        now = self._clock()
        for key in [k for k, (deadline, _) in self._data.items() if deadline < now]:
            del self._data[key]

    async def take(self, key: str) -> bytes | Taken | None:
        value = self._live(key)
        if value is None:
            self._data.pop(key, None)
            return None
        if value == MARKER:
            return TAKEN
        self._data[key] = (self._data[key][0], MARKER)  # until it would have expired
        return value

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    async def close(self) -> None:
        self._data.clear()
