"""Reactions in this process (the embedded broker). No method awaits, so each is atomic
on the event loop; expiry uses an injected clock, checked on access."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from chatserver.reactions.base import MAX_REACTORS, Tally, ordered


@dataclass(slots=True)
class _Message:
    seq: int
    deadline: float
    given: dict[str, set[str]] = field(default_factory=dict)


class MemoryReactionStore:
    def __init__(
        self,
        *,
        max_messages: int = 100,
        ttl: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max = max_messages
        self._ttl = ttl
        self._clock = clock
        self._rooms: dict[str, dict[str, _Message]] = {}

    def _live(self, room: str) -> dict[str, _Message]:
        """The room's messages, the expired ones dropped."""
        messages = self._rooms.setdefault(room, {})
        now = self._clock()
        for gone in [m for m, state in messages.items() if state.deadline <= now]:
            del messages[gone]
        return messages

    async def react(
        self, room: str, message: str, seq: int, reactor: str, reaction: str, *, undo: bool = False
    ) -> Tally | None:
        messages = self._live(room)
        state = messages.get(message) or _Message(seq, 0.0)
        if reactor not in state.given and len(state.given) >= MAX_REACTORS:
            self._tidy(room)
            return None
        mine = state.given.setdefault(reactor, set())
        if undo:
            mine.discard(reaction)
        else:
            mine.add(reaction)
        if not mine:
            del state.given[reactor]
        state.deadline = self._clock() + self._ttl
        if state.given:
            messages[message] = state
        else:
            messages.pop(message, None)
        while len(messages) > self._max:
            del messages[min(messages, key=lambda m: (messages[m].seq, m))]
        self._tidy(room)
        if state.given and message not in messages:
            return None  # older than every message the full room keeps
        return _tally(message, state)

    def _tidy(self, room: str) -> None:
        if not self._rooms.get(room):
            self._rooms.pop(room, None)

    async def tallies(self, room: str) -> list[Tally]:
        messages = self._live(room)
        self._tidy(room)
        rows = sorted(messages.items(), key=lambda kv: (kv[1].seq, kv[0]))
        return [_tally(message, state) for message, state in rows]

    async def forget(self, room: str) -> None:
        self._rooms.pop(room, None)

    async def close(self) -> None:
        self._rooms.clear()


def _tally(message: str, state: _Message) -> Tally:
    return Tally(message, state.seq, {r: ordered(g) for r, g in sorted(state.given.items())})
