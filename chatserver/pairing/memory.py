"""The in-process pairing store (embedded broker). Each method runs without awaiting
anything, so on one event loop every operation is atomic."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import replace

from chatserver.pairing.base import (
    MATCH_SCAN,
    MAX_AVOID,
    AlreadyWaiting,
    Pair,
    Seat,
    Tier,
    TopicQueue,
    Waiting,
)


class MemoryPairingStore:
    def __init__(self) -> None:
        self._queues: dict[str, list[tuple[int, float, int, Waiting]]] = {}
        self._where: dict[str, str] = {}
        self._seats: dict[str, Seat] = {}
        self._pairs: dict[str, Pair] = {}
        self._avoid: dict[str, tuple[str, ...]] = {}  # room -> its seeker's avoid list
        self._order = itertools.count()

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
        return self._insert(waiting)

    async def cancel(self, seeker: str) -> Waiting | None:
        return self._remove(seeker)

    async def position(self, seeker: str) -> tuple[str, int] | None:
        topic = self._where.get(seeker)
        if topic is None:
            return None
        for index, item in enumerate(self._queues[topic]):
            if item[3].seeker == seeker:
                return topic, index + 1
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
        return [item[3].seeker for item in self._queues.get(topic, ())]

    async def waiting(self, topic: str) -> list[Waiting]:
        return [item[3] for item in self._queues.get(topic, ())]

    async def queues(self, topics: Sequence[str]) -> list[TopicQueue]:
        out = []
        for topic in topics:
            queue = self._queues.get(topic, [])
            out.append(
                TopicQueue(
                    topic=topic,
                    waiting=len(queue),
                    oldest_since=min((i[3].since for i in queue), default=None),
                    at_risk=sum(1 for i in queue if i[3].tier == Tier.AT_RISK),
                )
            )
        return out

    async def relocate(self, session: str, node: str) -> None:
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
        old = self._seats.get(listener)
        seat = Seat(listener, node, name, tuple(topics), capacity, old.active if old else 0, auto)
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

    def _free_listener(
        self, topic: str, exclude: str | None = None, avoid: tuple[str, ...] = ()
    ) -> Seat | None:
        best: Seat | None = None
        for seat in self._seats.values():
            if (
                seat.auto
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
        return pair

    async def match(self, topic: str, room: str, now: float) -> Pair | None:
        for *_, waiting in self._queues.get(topic, [])[:MATCH_SCAN]:
            seat = self._free_listener(topic, avoid=waiting.avoid)
            if seat is not None:
                return self._pair(waiting, seat, room, now)
        return None

    async def accept(self, listener: str, topic: str | None, room: str, now: float) -> Pair | None:
        seat = self._seats.get(listener)
        if seat is None or seat.active >= seat.capacity:
            return None
        topics = [topic] if topic is not None and topic in seat.topics else list(seat.topics)
        heads = []
        for t in topics:
            line = self._queues.get(t, [])[:MATCH_SCAN]
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
