"""The embedded broker: one process, no external service. The default.

Delivery is synchronous: ``publish`` calls the node's deliver callback before it returns,
so order is the order of publish calls, which asyncio makes total.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence

from chatserver.broker.base import (
    BrokerStatistics,
    Claim,
    Deliver,
    Entry,
    Evicted,
    HealthChanged,
)


class _Room:
    __slots__ = ("flags", "held", "history", "members", "seats", "seq")

    def __init__(self) -> None:
        self.seq = 0
        self.history: deque[tuple[float, Entry]] = deque()
        self.members: dict[str, bytes] = {}
        #: handle -> (owner, flags that leave with the member): the broker's own record
        self.seats: dict[str, tuple[str, tuple[str, ...]]] = {}
        #: handles whose seat is held (kept for a resume, not counted against capacity)
        self.held: set[str] = set()
        self.flags: dict[str, int] = {}


class MemoryBroker:
    def __init__(
        self,
        node_id: str = "local",
        *,
        history_size: int = 100,
        history_seconds: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.node_id = node_id
        self._history_size = history_size
        self._history_seconds = history_seconds
        self._clock = clock
        self._rooms: dict[str, _Room] = {}
        self._subscribed: set[str] = set()
        self._deliver: Deliver | None = None
        self._published = 0
        self._delivered = 0

    async def start(
        self,
        deliver: Deliver,
        on_health: HealthChanged | None = None,
        on_evict: Evicted | None = None,
    ) -> None:
        """``on_evict`` is never called: one process has no other node that can die."""
        self._deliver = deliver
        if on_health is not None:
            on_health(True)

    async def close(self) -> None:
        self._deliver = None

    @property
    def healthy(self) -> bool:
        return True

    def statistics(self) -> BrokerStatistics:
        return BrokerStatistics(True, len(self._subscribed), self._published, self._delivered)

    async def subscribe(self, room: str) -> None:
        self._subscribed.add(room)

    async def unsubscribe(self, room: str) -> None:
        self._subscribed.discard(room)

    def _room(self, room: str) -> _Room:
        state = self._rooms.get(room)
        if state is None:
            state = self._rooms[room] = _Room()
        return state

    def _trim(self, state: _Room) -> None:
        horizon = self._clock() - self._history_seconds
        history = state.history
        while history and (len(history) > self._history_size or history[0][0] < horizon):
            history.popleft()

    async def publish(self, room: str, payload: bytes, *, sequenced: bool) -> int:
        seq = 0
        if sequenced:
            state = self._room(room)
            state.seq = seq = state.seq + 1
            state.history.append((self._clock(), Entry(seq, payload)))
            self._trim(state)
        self._published += 1
        if self._deliver is not None and room in self._subscribed:
            self._delivered += 1
            self._deliver(room, seq, payload)
        return seq

    async def publish_once(
        self, room: str, payload: bytes, marker: bytes
    ) -> tuple[int, bytes | None]:
        state = self._rooms.get(room)
        if state is not None:
            for _, entry in reversed(state.history):
                if marker in entry.payload:
                    return entry.seq, entry.payload
        return await self.publish(room, payload, sequenced=True), None

    async def history(self, room: str, after: int) -> list[Entry]:
        state = self._rooms.get(room)
        if state is None:
            return []
        self._trim(state)
        return [entry for _, entry in state.history if entry.seq > after]

    async def last_seq(self, room: str) -> int:
        state = self._rooms.get(room)
        return 0 if state is None else state.seq

    async def claim(
        self,
        room: str,
        handle: str,
        member: bytes,
        *,
        capacity: int = 0,
        owner: str = "",
        flags: Sequence[str] = (),
    ) -> Claim:
        state = self._room(room)
        members = state.members
        if handle in members:
            return Claim.TAKEN
        if capacity and len(members) - len(state.held) >= capacity:
            if not members:
                del self._rooms[room]
            return Claim.FULL
        members[handle] = member
        state.seats[handle] = (owner, tuple(flags))
        return Claim.OK

    async def reclaim(
        self, room: str, handle: str, member: bytes, owner: str, *, flags: Sequence[str] = ()
    ) -> Claim:
        state = self._rooms.get(room)
        if state is None or not state.members:
            return Claim.GONE
        if handle in state.members:
            seat = state.seats.get(handle)
            if seat is None or not seat[0] or seat[0] != owner:
                return Claim.TAKEN
        state.members[handle] = member
        state.seats[handle] = (owner, tuple(flags))
        state.held.discard(handle)
        return Claim.OK

    async def hold(self, room: str, handle: str) -> None:
        state = self._rooms.get(room)
        if state is not None and handle in state.members:
            state.held.add(handle)

    async def release(self, room: str, handle: str) -> bool:
        state = self._rooms.get(room)
        if state is None:
            return False
        state.members.pop(handle, None)
        state.held.discard(handle)
        _, drop = state.seats.pop(handle, ("", ()))
        if state.members:
            for name in drop:  # the flags that leave with the member
                state.flags.pop(name, None)
            return False
        del self._rooms[room]
        return True

    async def members(self, room: str) -> Mapping[str, bytes]:
        state = self._rooms.get(room)
        return {} if state is None else dict(state.members)

    async def set_flag(self, room: str, name: str, value: int) -> bool:
        state = self._rooms.get(room)
        if state is None or not state.members:
            return False
        state.flags[name] = value
        return True

    async def flags(self, room: str) -> Mapping[str, int]:
        state = self._rooms.get(room)
        return {} if state is None else dict(state.flags)
