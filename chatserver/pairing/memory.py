"""The in-process pairing store (embedded broker). Each method runs without awaiting
anything, so on one event loop every operation is atomic.

One process is one node, yet the twin keeps the shared store's rules about nodes (who
beat when, absent seekers, offered pairs, reaping) so the contract suite holds both to
the same behaviour; it never loses its data, so ``touch`` never writes back."""

from __future__ import annotations

import bisect
import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from chatserver.pairing.base import (
    MATCH_SCAN,
    MAX_AVOID,
    AlreadyWaiting,
    Holdings,
    Liveness,
    Pair,
    Reaped,
    Seat,
    Tier,
    TopicQueue,
    Touched,
    Waiting,
)

Item = tuple[int, float, int, Waiting]


class MemoryPairingStore:
    def __init__(
        self, liveness: Liveness | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._liveness = liveness or Liveness()
        self._clock = clock
        self._queues: dict[str, list[Item]] = {}
        self._where: dict[str, str] = {}
        self._seats: dict[str, Seat] = {}
        self._pairs: dict[str, Pair] = {}
        self._avoid: dict[str, tuple[str, ...]] = {}  # room -> its seeker's avoid list
        self._order = itertools.count()
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

    def _present(self, topic: str) -> Iterator[Item]:
        return (i for i in self._queues.get(topic, ()) if not self._absent(i[3]))

    # ------------------------------------------------------------------ queue

    def _insert(self, waiting: Waiting) -> int:
        queue = self._queues.setdefault(waiting.topic, [])
        key = (int(waiting.tier), waiting.since, next(self._order), waiting)
        index = bisect.bisect(queue, key[:3], key=lambda item: item[:3])
        queue.insert(index, key)
        self._where[waiting.seeker] = waiting.topic
        return index + 1

    def _remove(self, seeker: str) -> Waiting | None:
        topic = self._where.pop(seeker, None)
        if topic is None:
            return None
        queue = self._queues[topic]
        for index, item in enumerate(queue):
            if item[3].seeker == seeker:
                del queue[index]
                if not queue:
                    del self._queues[topic]
                return item[3]
        return None  # pragma: no cover - _where and _queues always agree

    async def enqueue(self, waiting: Waiting) -> int:
        if waiting.seeker in self._where:
            raise AlreadyWaiting(waiting.seeker)
        if len(waiting.avoid) > MAX_AVOID:
            waiting = replace(waiting, avoid=waiting.avoid[-MAX_AVOID:])
        self._beat(waiting.node)
        self._insert(waiting)
        where = await self.position(waiting.seeker)
        assert where is not None
        return where[1]

    async def cancel(self, seeker: str) -> Waiting | None:
        self._away.discard(seeker)
        return self._remove(seeker)

    async def position(self, seeker: str) -> tuple[str, int] | None:
        """1 + the present seekers ahead."""
        topic = self._where.get(seeker)
        if topic is None:
            return None
        ahead = 0
        for item in self._queues[topic]:
            if item[3].seeker == seeker:
                return topic, ahead + 1
            ahead += not self._absent(item[3])
        return None  # pragma: no cover

    async def mark_at_risk(self, seeker: str) -> bool:
        topic = self._where.get(seeker)
        if topic is None:
            return False
        current = next(i[3] for i in self._queues[topic] if i[3].seeker == seeker)
        if current.tier <= Tier.AT_RISK:
            return False
        self._remove(seeker)
        self._insert(replace(current, tier=Tier.AT_RISK))
        return True

    async def order(self, topic: str) -> list[str]:
        return [item[3].seeker for item in self._present(topic)]

    async def waiting(self, topic: str) -> list[Waiting]:
        return [item[3] for item in self._queues.get(topic, ())]

    async def queues(self, topics: Sequence[str]) -> list[TopicQueue]:
        out = []
        for topic in topics:
            present = [i[3] for i in self._present(topic)]
            out.append(
                TopicQueue(
                    topic=topic,
                    waiting=len(present),
                    oldest_since=min((w.since for w in present), default=None),
                    at_risk=sum(1 for w in present if w.tier == Tier.AT_RISK),
                    away=len(self._queues.get(topic, ())) - len(present),
                )
            )
        return out

    async def set_away(self, seeker: str, away: bool) -> str | None:
        topic = self._where.get(seeker)
        if topic is not None:
            (self._away.add if away else self._away.discard)(seeker)
        return topic

    async def relocate(self, session: str, node: str) -> None:
        self._beat(node)
        self._away.discard(session)
        topic = self._where.get(session)
        if topic is not None:
            queue = self._queues[topic]
            for index, item in enumerate(queue):
                if item[3].seeker == session:
                    queue[index] = (*item[:3], replace(item[3], node=node))
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
    ) -> Seat:
        self._beat(node)
        old = self._seats.get(listener)
        seat = Seat(listener, node, name, tuple(topics), capacity, old.active if old else 0, auto)
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

    def _free_listener(
        self, topic: str, exclude: str | None = None, avoid: tuple[str, ...] = ()
    ) -> Seat | None:
        best: Seat | None = None
        for seat in self._seats.values():
            if (
                seat.auto
                and not self._stale(seat.node)
                and seat.listener != exclude
                and seat.listener not in avoid
                and topic in seat.topics
                and seat.active < seat.capacity
                and (best is None or seat.active * best.capacity < best.active * seat.capacity)
            ):
                best = seat
        return best

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
        )
        self._pairs[room] = pair
        self._avoid[room] = waiting.avoid
        self._offered[room] = (waiting, self._clock())
        return pair

    async def match(self, topic: str, room: str, now: float) -> Pair | None:
        for *_, waiting in itertools.islice(self._present(topic), MATCH_SCAN):
            seat = self._free_listener(topic, avoid=waiting.avoid)
            if seat is not None:
                return self._pair(waiting, seat, room, now)
            if not waiting.avoid:
                return None  # no seat for someone who avoids nobody: none at all
        return None

    async def accept(self, listener: str, topic: str | None, room: str, now: float) -> Pair | None:
        seat = self._seats.get(listener)
        if seat is None or seat.active >= seat.capacity:
            return None
        topics = [topic] if topic is not None and topic in seat.topics else list(seat.topics)
        heads = []
        for t in topics:
            line = itertools.islice(self._present(t), MATCH_SCAN)
            willing = (i for i in line if listener not in i[3].avoid)
            head = next(willing, None)
            if head is not None:
                heads.append(head)
        if not heads:
            return None
        first = min(heads, key=lambda item: item[:3])
        return self._pair(first[3], seat, room, now)

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
        seat = self._free_listener(pair.topic, pair.listener, self._avoid.get(room, ()))
        if seat is None:
            return None
        old = self._seats.get(pair.listener)
        if old is not None:
            self._take(old, -1)
        self._take(seat, +1)
        moved = replace(
            pair, listener=seat.listener, listener_node=seat.node, listener_name=seat.name
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
        """An offered pair undone: the seat is free, the seeker back at their place."""
        waiting, _ = self._offered.pop(room)
        self._avoid.pop(room, None)
        pair = self._pairs.pop(room)
        seat = self._seats.get(pair.listener)
        if seat is not None:
            self._take(seat, -1)
        self._insert(waiting)
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
        for queue in list(self._queues.values()):
            for *_, waiting in list(queue):
                if waiting.node in gone:
                    self._remove(waiting.seeker)
                    self._away.discard(waiting.seeker)
                    emptied.add(waiting.topic)
        for node in gone:
            del self._alive[node]
        return Reaped(tuple(undone), tuple(listener_gone), tuple(seeker_gone), frozenset(emptied))
