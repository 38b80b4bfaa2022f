"""The in-process pairing store (embedded broker). Each method runs without awaiting
anything, so on one event loop every operation is atomic.

A topic's queue is kept as lines (see :mod:`.base` and :mod:`.memory_lines`); topic-wide
order is the merge of its lines by ``(tier, since, arrival)``.

One process is one node, yet the twin keeps the shared store's rules about nodes (who
beat when, absent seekers, offered pairs, reaping) so the contract suites hold both to
the same behaviour; it never loses its data, so ``touch`` never writes back."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from fractions import Fraction

from chatserver.pairing.base import (
    DEFAULT_LANGUAGE,
    MATCH_SCAN,
    MAX_AVOID,
    AlreadyWaiting,
    Holdings,
    LanguageQueue,
    Liveness,
    Pair,
    Reaped,
    Seat,
    Tier,
    TopicQueue,
    Touched,
    Waiting,
    can_take,
    speaks,
)
from chatserver.pairing.memory_lines import Entry, Lines, queue_key


def seat_rank(seat: Seat, waiting: Waiting) -> tuple[bool, Fraction, str]:
    """Sort key of the free seats that can take a seeker: a speaker of the seeker's
    language first, then the least loaded (``active / capacity``, exactly, as the Lua
    twin compares it by cross multiplication), then the smallest id."""
    return (not speaks(seat, waiting), Fraction(seat.active, seat.capacity), seat.listener)


def _language_counts(present: Sequence[Waiting]) -> tuple[LanguageQueue, ...]:
    out = []
    for language in sorted({w.language for w in present}):
        some = [w for w in present if w.language == language]
        risky = sum(1 for w in some if w.tier == Tier.AT_RISK)
        out.append(LanguageQueue(language, len(some), min(w.since for w in some), risky))
    return tuple(out)


class MemoryPairingStore:
    def __init__(
        self, liveness: Liveness | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._liveness = liveness or Liveness()
        self._clock = clock
        self._queue = Lines()
        self._seats: dict[str, Seat] = {}
        self._pairs: dict[str, Pair] = {}
        self._avoid: dict[str, tuple[str, ...]] = {}  # room -> its seeker's avoid list
        self._away: set[str] = set()
        self._alive: dict[str, float] = {}  # node -> when it last beat
        #: pairs not yet confirmed: room -> (the seeker's place, when offered)
        self._offered: dict[str, tuple[Waiting, float]] = {}

    # ------------------------------------------------------------------ nodes

    def _beat(self, node: str) -> None:
        self._alive[node] = self._clock()

    def _silent_for(self, node: str) -> float:
        """Seconds since ``node`` last beat (0 for a node never heard of: not dead)."""
        seen = self._alive.get(node)
        return 0.0 if seen is None else self._clock() - seen

    def _stale(self, node: str) -> bool:
        return self._silent_for(node) > self._liveness.dead_after

    def _absent(self, waiting: Waiting) -> bool:
        return waiting.seeker in self._away or self._stale(waiting.node)

    def _present(self, entries: Iterable[Entry]) -> Iterator[Entry]:
        return (e for e in entries if not self._absent(e[3]))

    # ------------------------------------------------------------------ queue

    async def enqueue(self, waiting: Waiting) -> int:
        if waiting.seeker in self._queue:
            raise AlreadyWaiting(waiting.seeker)
        if len(waiting.avoid) > MAX_AVOID:
            waiting = replace(waiting, avoid=waiting.avoid[-MAX_AVOID:])
        self._beat(waiting.node)
        self._queue.insert(waiting)
        where = await self.position(waiting.seeker)
        assert where is not None
        return where[1]

    async def cancel(self, seeker: str) -> Waiting | None:
        self._away.discard(seeker)
        return self._queue.remove(seeker)

    async def position(self, seeker: str) -> tuple[str, int] | None:
        """1 + the present seekers ahead, across the topic's lines."""
        topic = self._queue.topic_of(seeker)
        if topic is None:
            return None
        ahead = 0
        for item in self._queue.merged(topic):
            if item[3].seeker == seeker:
                return topic, ahead + 1
            ahead += not self._absent(item[3])
        return None  # pragma: no cover - the lines and the index always agree

    async def mark_at_risk(self, seeker: str) -> bool:
        entry = self._queue.entry(seeker)
        if entry is None or entry[3].tier <= Tier.AT_RISK:
            return False
        self._queue.refile(replace(entry[3], tier=Tier.AT_RISK))
        return True

    async def choose_any(self, seeker: str) -> bool:
        entry = self._queue.entry(seeker)
        if entry is None or entry[3].any_language:
            return False
        self._queue.refile(replace(entry[3], any_language=True))
        return True

    async def order(self, topic: str) -> list[str]:
        return [item[3].seeker for item in self._present(self._queue.merged(topic))]

    async def waiting(self, topic: str) -> list[Waiting]:
        return [item[3] for item in self._queue.merged(topic)]

    async def queues(self, topics: Sequence[str]) -> list[TopicQueue]:
        out = []
        for topic in topics:
            everyone = self._queue.merged(topic)
            present = [item[3] for item in self._present(everyone)]
            out.append(
                TopicQueue(
                    topic=topic,
                    waiting=len(present),
                    oldest_since=min((w.since for w in present), default=None),
                    at_risk=sum(1 for w in present if w.tier == Tier.AT_RISK),
                    languages=_language_counts(present),
                    away=len(everyone) - len(present),
                )
            )
        return out

    async def set_away(self, seeker: str, away: bool) -> str | None:
        topic = self._queue.topic_of(seeker)
        if topic is not None:
            (self._away.add if away else self._away.discard)(seeker)
        return topic

    async def relocate(self, session: str, node: str) -> None:
        self._beat(node)
        self._away.discard(session)
        entry = self._queue.entry(session)
        if entry is not None:
            self._queue.refile(replace(entry[3], node=node))
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
        self._beat(node)
        old = self._seats.get(listener)
        active = old.active if old else 0
        seat = Seat(listener, node, name, tuple(topics), capacity, active, auto, tuple(languages))
        self._seats[listener] = seat
        return seat

    async def withdraw(self, listener: str) -> list[Pair]:
        self._seats.pop(listener, None)
        rooms = [room for room, pair in self._pairs.items() if pair.listener == listener]
        for room in rooms:
            self._avoid.pop(room, None)
            self._offered.pop(room, None)
        return [self._pairs.pop(room) for room in rooms]

    async def seat(self, listener: str) -> Seat | None:
        return self._seats.get(listener)

    async def languages_on_duty(self, topic: str) -> tuple[str, ...]:
        spoken = {
            language
            for seat in self._seats.values()
            if seat.capacity > 0 and topic in seat.topics and not self._stale(seat.node)
            for language in seat.languages
        }
        return tuple(sorted(spoken))

    def _free_seats(self, topic: str, exclude: str | None = None) -> list[Seat]:
        """Auto seats of ``topic`` with room for one more chat, on a node that is alive."""
        return [
            seat
            for seat in self._seats.values()
            if seat.auto
            and seat.listener != exclude
            and topic in seat.topics
            and seat.active < seat.capacity
            and not self._stale(seat.node)
        ]

    def _take(self, seat: Seat, delta: int) -> Seat:
        updated = replace(seat, active=max(0, seat.active + delta))
        self._seats[seat.listener] = updated
        return updated

    def _pair(self, waiting: Waiting, seat: Seat, room: str, now: float) -> Pair:
        self._queue.remove(waiting.seeker)
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
        self._offered[room] = (waiting, self._clock())
        return pair

    async def match(self, topic: str, room: str, now: float) -> Pair | None:
        lines = self._queue.lines(topic)
        free = self._free_seats(topic) if lines else []
        if not free:
            return None
        best: tuple[Entry, Seat] | None = None
        for _, line in lines:
            for entry in itertools.islice(self._present(line), MATCH_SCAN):
                able = [s for s in free if can_take(s, entry[3])]
                if able:
                    if best is None or queue_key(entry) < queue_key(best[0]):
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
            for _, line in self._queue.lines(t):
                scanned = itertools.islice(self._present(line), MATCH_SCAN)
                head = next((e for e in scanned if can_take(seat, e[3])), None)
                if head is not None:
                    heads.append(head)
        if not heads:
            return None
        return self._pair(min(heads, key=queue_key)[3], seat, room, now)

    async def pair_of(self, room: str) -> Pair | None:
        return self._pairs.get(room)

    async def end(self, room: str) -> Pair | None:
        pair = self._pairs.pop(room, None)
        self._avoid.pop(room, None)
        self._offered.pop(room, None)
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

    # ------------------------------------------------------------------ handshake, nodes

    async def confirm(self, room: str) -> bool:
        self._offered.pop(room, None)
        return room in self._pairs

    async def undo(self, room: str) -> Waiting | None:
        if room not in self._offered:
            return None
        waiting = self._take_back(room)
        self._away.add(waiting.seeker)
        return waiting

    def _take_back(self, room: str) -> Waiting:
        """An offered pair undone: the seat is free, the seeker back at their place (in
        their line: language or "any", as they were)."""
        waiting, _ = self._offered.pop(room)
        self._avoid.pop(room, None)
        pair = self._pairs.pop(room)
        seat = self._seats.get(pair.listener)
        if seat is not None:
            self._take(seat, -1)
        self._queue.insert(waiting)
        return waiting

    async def touch(self, node: str, holdings: Holdings) -> Touched:
        self._beat(node)
        return Touched.OK  # memory is never lost, and one process is never taken for dead

    async def reap(self, topics: Sequence[str]) -> Reaped:
        live = self._liveness
        undone = []
        for room, (_, since) in list(self._offered.items()):
            pair = self._pairs[room]
            late = self._clock() - since > live.dead_after
            if late or self._stale(pair.seeker_node) or self._stale(pair.listener_node):
                self._take_back(room)
                undone.append(pair)
        gone = {n for n in self._alive if self._silent_for(n) > live.dead_after + live.grace}
        listener_gone: list[Pair] = []
        for seat in [s for s in self._seats.values() if s.node in gone]:
            listener_gone += await self.withdraw(seat.listener)
        seeker_gone = []
        for room in [r for r, p in self._pairs.items() if p.seeker_node in gone]:
            ended = await self.end(room)
            if ended is not None:
                seeker_gone.append(ended)
        emptied = set()
        for waiting in [w for w in self._queue.everyone() if w.node in gone]:
            self._queue.remove(waiting.seeker)
            self._away.discard(waiting.seeker)
            emptied.add(waiting.topic)
        for node in gone:
            del self._alive[node]
        return Reaped(tuple(undone), tuple(listener_gone), tuple(seeker_gone), frozenset(emptied))
