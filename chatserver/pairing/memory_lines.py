"""The queue lines of the in-process pairing store (see :mod:`.base`): per topic, one
sorted list per line (a seeker language, or :data:`~.base.ANY`), merged in queue order
when read topic-wide. Who is absent is not this module's business: the store filters.

Apart from :mod:`.memory` so that the store reads as its decisions, not its lists."""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Iterator

from chatserver.pairing.base import Waiting

#: tier, since, arrival (ties between equal times), who
Entry = tuple[int, float, int, Waiting]


def queue_key(item: Entry) -> tuple[int, float, int]:
    """Queue order: tier, then arrival time, then who asked first."""
    return item[0], item[1], item[2]


class Lines:
    def __init__(self) -> None:
        self._lines: dict[tuple[str, str], list[Entry]] = {}
        self._where: dict[str, tuple[str, str]] = {}  # seeker -> (topic, line)
        self._order = itertools.count()

    def __contains__(self, seeker: object) -> bool:
        return seeker in self._where

    def topic_of(self, seeker: str) -> str | None:
        where = self._where.get(seeker)
        return None if where is None else where[0]

    def insert(self, waiting: Waiting, arrival: int | None = None) -> None:
        """File ``waiting`` in its line; ``arrival`` keeps an earlier place among equals."""
        where = (waiting.topic, waiting.line)
        line = self._lines.setdefault(where, [])
        number = next(self._order) if arrival is None else arrival
        bisect.insort(line, (int(waiting.tier), waiting.since, number, waiting), key=queue_key)
        self._where[waiting.seeker] = where

    def entry(self, seeker: str) -> Entry | None:
        where = self._where.get(seeker)
        if where is None:
            return None
        return next(item for item in self._lines[where] if item[3].seeker == seeker)

    def remove(self, seeker: str) -> Waiting | None:
        where = self._where.pop(seeker, None)
        if where is None:
            return None
        line = self._lines[where]
        index = next(i for i, item in enumerate(line) if item[3].seeker == seeker)
        item = line.pop(index)
        if not line:
            del self._lines[where]
        return item[3]

    def refile(self, moved: Waiting) -> None:
        """File a waiting seeker again (new tier, line or node), keeping its arrival."""
        entry = self.entry(moved.seeker)
        assert entry is not None
        self.remove(moved.seeker)
        self.insert(moved, entry[2])

    def lines(self, topic: str) -> list[tuple[str, list[Entry]]]:
        """The lines of ``topic`` (name, entries in queue order), by name."""
        return sorted((line, q) for (t, line), q in self._lines.items() if t == topic)

    def merged(self, topic: str) -> list[Entry]:
        """Everyone waiting on ``topic``, in queue order across its lines."""
        return list(heapq.merge(*(q for _, q in self.lines(topic)), key=queue_key))

    def everyone(self) -> Iterator[Waiting]:
        return (item[3] for line in list(self._lines.values()) for item in list(line))
