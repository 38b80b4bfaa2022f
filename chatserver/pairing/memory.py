"""The in-process pairing store (embedded broker). Each method runs without awaiting
anything, so on one event loop every operation is atomic.

A topic's queue is kept as lines (see :mod:`.base`): ``(topic, line) -> sorted list``;
topic-wide order is the merge of its lines by ``(tier, since, arrival)``."""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction

from chatserver.pairing.base import (
    DEFAULT_LANGUAGE,
    MATCH_SCAN,
    MAX_AVOID,
    AlreadyWaiting,
    LanguageQueue,
    Pair,
    Seat,
    Tier,
    TopicQueue,
    Waiting,
    can_take,
    speaks,
)

Entry = tuple[int, float, int, Waiting]  # tier, since, arrival, who


def _key(item: Entry) -> tuple[int, float, int]:
    return item[0], item[1], item[2]


def seat_rank(seat: Seat, waiting: Waiting) -> tuple[bool, Fraction, str]:
    """Sort key of the free seats that can take a seeker: a speaker of the seeker's
    language first, then the least loaded (``active / capacity``, exactly, as the Lua
    twin compares it by cross multiplication), then the smallest id."""
    return (not speaks(seat, waiting), Fraction(seat.active, seat.capacity), seat.listener)


class MemoryPairingStore:
    def __init__(self) -> None:
        self._lines: dict[tuple[str, str], list[Entry]] = {}
        self._where: dict[str, tuple[str, str]] = {}  # seeker -> (topic, line)
        self._seats: dict[str, Seat] = {}
        self._pairs: dict[str, Pair] = {}
        self._avoid: dict[str, tuple[str, ...]] = {}  # room -> its seeker's avoid list
        self._order = itertools.count()

    # ------------------------------------------------------------------ queue

    def _insert(self, waiting: Waiting) -> None:
        where = (waiting.topic, waiting.line)
        line = self._lines.setdefault(where, [])
        bisect.insort(
            line, (int(waiting.tier), waiting.since, next(self._order), waiting), key=_key
        )
        self._where[waiting.seeker] = where

    def _entry(self, seeker: str) -> Entry | None:
        where = self._where.get(seeker)
        if where is None:
            return None
        return next(item for item in self._lines[where] if item[3].seeker == seeker)

    def _remove(self, seeker: str) -> Waiting | None:
        where = self._where.pop(seeker, None)
        if where is None:
            return None
        line = self._lines[where]
        index = next(i for i, item in enumerate(line) if item[3].seeker == seeker)
        item = line.pop(index)
        if not line:
            del self._lines[where]
        return item[3]

    def _topic_lines(self, topic: str) -> list[tuple[str, list[Entry]]]:
        return sorted((line, q) for (t, line), q in self._lines.items() if t == topic)

    def _merged(self, topic: str) -> list[Entry]:
        return list(heapq.merge(*(q for _, q in self._topic_lines(topic)), key=_key))

    async def enqueue(self, waiting: Waiting) -> int:
        if waiting.seeker in self._where:
            raise AlreadyWaiting(waiting.seeker)
        if len(waiting.avoid) > MAX_AVOID:
            waiting = replace(waiting, avoid=waiting.avoid[-MAX_AVOID:])
        self._insert(waiting)
        return await self._rank(waiting.seeker)

    async def _rank(self, seeker: str) -> int:
        topic, _ = self._where[seeker]
        return next(i for i, e in enumerate(self._merged(topic), 1) if e[3].seeker == seeker)

    async def cancel(self, seeker: str) -> Waiting | None:
        return self._remove(seeker)

    async def position(self, seeker: str) -> tuple[str, int] | None:
        where = self._where.get(seeker)
        return None if where is None else (where[0], await self._rank(seeker))

    def _move(self, entry: Entry, moved: Waiting) -> None:
        """Re-file a waiting seeker (new tier or line), keeping its place in arrivals."""
        self._remove(moved.seeker)
        where = (moved.topic, moved.line)
        line = self._lines.setdefault(where, [])
        bisect.insort(line, (int(moved.tier), moved.since, entry[2], moved), key=_key)
        self._where[moved.seeker] = where

    async def mark_at_risk(self, seeker: str) -> bool:
        entry = self._entry(seeker)
        if entry is None or entry[3].tier <= Tier.AT_RISK:
            return False
        self._move(entry, replace(entry[3], tier=Tier.AT_RISK))
        return True

    async def choose_any(self, seeker: str) -> bool:
        entry = self._entry(seeker)
        if entry is None or entry[3].any_language:
            return False
        self._move(entry, replace(entry[3], any_language=True))
        return True

    async def order(self, topic: str) -> list[str]:
        return [item[3].seeker for item in self._merged(topic)]

    async def waiting(self, topic: str) -> list[Waiting]:
        return [item[3] for item in self._merged(topic)]

    async def queues(self, topics: Sequence[str]) -> list[TopicQueue]:
        out = []
        for topic in topics:
            everyone = [item[3] for item in self._merged(topic)]
            by_language = {}
            for language in sorted({w.language for w in everyone}):
                some = [w for w in everyone if w.language == language]
                by_language[language] = LanguageQueue(
                    language,
                    len(some),
                    min(w.since for w in some),
                    sum(1 for w in some if w.tier == Tier.AT_RISK),
                )
            out.append(
                TopicQueue(
                    topic=topic,
                    waiting=len(everyone),
                    oldest_since=min((w.since for w in everyone), default=None),
                    at_risk=sum(1 for w in everyone if w.tier == Tier.AT_RISK),
                    languages=tuple(by_language.values()),
                )
            )
        return out

    async def relocate(self, session: str, node: str) -> None:
        where = self._where.get(session)
        if where is not None:
            line = self._lines[where]
            for index, item in enumerate(line):
                if item[3].seeker == session:
                    line[index] = (*item[:3], replace(item[3], node=node))
        seat = self._seats.get(session)
        if seat is not None:
            self._seats[session] = replace(seat, node=node)
        for room, pair in list(self._pairs.items()):
            if pair.seeker == session:
                self._pairs[room] = replace(pair, seeker_node=node)
            elif pair.listener == session:
                self._pairs[room] = replace(pair, listener_node=node)

    # ------------------------------------------------------------------ seats

    async def offer(
        self,
        listener: str,
        *,
        node: str,
        name: str,
        topics: Sequence[str],
        capacity: int,
        auto: bool,
        languages: Sequence[str] = (DEFAULT_LANGUAGE,),
    ) -> Seat:
        old = self._seats.get(listener)
        seat = Seat(
            listener,
            node,
            name,
            tuple(topics),
            capacity,
            old.active if old else 0,
            auto,
            tuple(languages),
        )
        self._seats[listener] = seat
        return seat

    async def withdraw(self, listener: str) -> list[Pair]:
        self._seats.pop(listener, None)
        rooms = [room for room, pair in self._pairs.items() if pair.listener == listener]
        for room in rooms:
            self._avoid.pop(room, None)
        return [self._pairs.pop(room) for room in rooms]

    async def seat(self, listener: str) -> Seat | None:
        return self._seats.get(listener)

    async def languages_on_duty(self, topic: str) -> tuple[str, ...]:
        spoken = {
            language
            for seat in self._seats.values()
            if seat.capacity > 0 and topic in seat.topics
            for language in seat.languages
        }
        return tuple(sorted(spoken))

    def _free_seats(self, topic: str, exclude: str | None = None) -> list[Seat]:
        return [
            seat
            for seat in self._seats.values()
            if seat.auto
            and seat.listener != exclude
            and topic in seat.topics
            and seat.active < seat.capacity
        ]

    def _take(self, seat: Seat, delta: int) -> Seat:
        updated = replace(seat, active=max(0, seat.active + delta))
        self._seats[seat.listener] = updated
        return updated

    def _pair(self, waiting: Waiting, seat: Seat, room: str, now: float) -> Pair:
        self._remove(waiting.seeker)
        self._take(seat, +1)
        pair = Pair(
            room=room,
            topic=waiting.topic,
            seeker=waiting.seeker,
            seeker_node=waiting.node,
            seeker_handle=waiting.handle,
            listener=seat.listener,
            listener_node=seat.node,
            listener_name=seat.name,
            at_risk=waiting.tier == Tier.AT_RISK,
            waited=max(0.0, now - waiting.since),
            language=waiting.language,
            need=waiting.need,
            shared=speaks(seat, waiting),
        )
        self._pairs[room] = pair
        self._avoid[room] = waiting.avoid
        return pair

    async def match(self, topic: str, room: str, now: float) -> Pair | None:
        lines = self._topic_lines(topic)
        free = self._free_seats(topic) if lines else []
        if not free:
            return None
        best: tuple[Entry, Seat] | None = None
        for _, line in lines:
            for entry in line[:MATCH_SCAN]:
                able = [s for s in free if can_take(s, entry[3])]
                if able:
                    if best is None or _key(entry) < _key(best[0]):
                        best = (entry, min(able, key=lambda s: seat_rank(s, entry[3])))
                    break
                if not entry[3].avoid:
                    break  # nobody behind in this line can have a seat either
        return None if best is None else self._pair(best[0][3], best[1], room, now)

    async def accept(self, listener: str, topic: str | None, room: str, now: float) -> Pair | None:
        seat = self._seats.get(listener)
        if seat is None or seat.active >= seat.capacity:
            return None
        topics = [topic] if topic is not None and topic in seat.topics else list(seat.topics)
        heads: list[Entry] = []
        for t in topics:
            for _, line in self._topic_lines(t):
                head = next((e for e in line[:MATCH_SCAN] if can_take(seat, e[3])), None)
                if head is not None:
                    heads.append(head)
        if not heads:
            return None
        return self._pair(min(heads, key=_key)[3], seat, room, now)

    async def pair_of(self, room: str) -> Pair | None:
        return self._pairs.get(room)

    async def end(self, room: str) -> Pair | None:
        pair = self._pairs.pop(room, None)
        self._avoid.pop(room, None)
        if pair is not None:
            seat = self._seats.get(pair.listener)
            if seat is not None:
                self._take(seat, -1)
        return pair

    async def handover(self, room: str) -> Pair | None:
        pair = self._pairs.get(room)
        if pair is None:
            return None
        avoid = self._avoid.get(room, ())
        able = [
            s
            for s in self._free_seats(pair.topic, pair.listener)
            if s.listener not in avoid and (pair.language in s.languages or not pair.shared)
        ]
        if not able:
            return None
        seeker = Waiting(pair.seeker, pair.topic, "", "", 0.0, language=pair.language)
        seat = min(able, key=lambda s: seat_rank(s, seeker))
        old = self._seats.get(pair.listener)
        if old is not None:
            self._take(old, -1)
        self._take(seat, +1)
        moved = replace(
            pair,
            listener=seat.listener,
            listener_node=seat.node,
            listener_name=seat.name,
            shared=pair.language in seat.languages,
        )
        self._pairs[room] = moved
        return moved
