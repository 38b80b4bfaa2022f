"""Presence without a storm: the joins and leaves of a room, gathered per window.

Every join used to be a ``presence`` frame to everyone already in the room, so a room of
n filled with n²/2 frames (233,000 frames, 31 MB and 2.2 s of node CPU for 500 people).
The hub hands each presence event of a room here (:meth:`Gather.take`):

* the first event after a quiet window goes out at once, as it came (a one-to-one chat
  sees its listener arrive without delay);
* events that follow within the window are kept and go out when it ends, together: one
  ``presence_batch`` (a plain ``presence`` when only one came).

So a member gets at most one presence frame per room per window. The window grows with
the room (:data:`WINDOW` per :data:`PER_MEMBERS` local members, at most
:data:`MAX_WINDOW`): a room of n filling over t seconds costs about n + t·nodes/WINDOW·100
frames, O(n), and a batch names at most :data:`NAMED` people (staff first), so its size
is bounded too.

Order: a room's message must not overtake the presence of its sender, so the hub flushes
a room's pending batch before anything else of that room (:meth:`Gather.flush`). Timers
are loop callbacks (``call_later``) that tell the hub a window ended; they are cancelled
when the room's last local member leaves. This module sends nothing itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chatserver.envelopes import MemberRecord
from protocol.messages import Member, Presence, PresenceBatch

#: The window of a room with up to PER_MEMBERS local members (seconds).
WINDOW = 0.05
PER_MEMBERS = 100
MAX_WINDOW = 0.5
#: Most people a batch names (staff first); the counts cover everyone.
NAMED = 20
#: Most members a ``joined`` lists (you, staff, then others); ``count`` covers everyone.
LISTED = 50
STAFF = frozenset({"listener", "moderator"})

#: Called when a room's window ends with events kept: the hub then calls :meth:`flush`.
Due = Callable[[str], None]


def window(members: int) -> float:
    """The gathering window of a room with ``members`` local members."""
    return min(MAX_WINDOW, WINDOW * max(1.0, members / PER_MEMBERS))


def listing(members: Mapping[str, bytes], you: str) -> tuple[Member, ...]:
    """The ``members`` of a ``joined``: everyone by handle in a room of up to
    :data:`LISTED`; in a bigger one you, then listeners and moderators, then others.
    (Every ``joined`` of a room filling up listing everyone was the other half of the
    n² of a fill: 62 KB per member at 500.) A big room's seekers are not decoded: their
    records are told apart by their first bytes."""
    if len(members) <= LISTED:
        return tuple(Member(h, MemberRecord.decode(m).role) for h, m in sorted(members.items()))
    staff = [
        Member(h, MemberRecord.decode(m).role)
        for h, m in members.items()
        if h != you and not MemberRecord.is_seeker(m)
    ]
    first = [Member(you, MemberRecord.decode(members[you]).role)] if you in members else []
    listed = first + sorted(staff, key=lambda m: m.handle)[: LISTED - len(first)]
    for handle, record in members.items():
        if len(listed) >= LISTED:
            break
        if handle != you and MemberRecord.is_seeker(record):
            listed.append(Member(handle, "seeker"))
    return tuple(listed)


@dataclass(slots=True)
class _Room:
    last: float  # monotonic time the last presence frame went out
    events: list[Presence] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


def batch(room: str, events: list[Presence]) -> Presence | PresenceBatch:
    """One frame for ``events``: the event itself when alone, else a batch where each
    person appears once, as they ended up (joined, or left), in the order they first
    came up in the window."""
    if len(events) == 1:
        return events[0]
    last = list({e.handle: e for e in events}.values())  # where each person ended up
    joins = [e for e in last if e.event == "join"]
    leaves = [e for e in last if e.event != "join"]
    named = {id(e) for e in sorted(last, key=lambda e: e.role not in STAFF)[:NAMED]}
    return PresenceBatch(
        room=room,
        joins=tuple(Member(e.handle, e.role) for e in joins if id(e) in named),
        leaves=tuple(Member(e.handle, e.role) for e in leaves if id(e) in named),
        joined=len(joins),
        left=len(leaves),
    )


class Gather:
    """The rooms' pending presence (see the module docstring)."""

    def __init__(self, due: Due, clock: Callable[[], float] = time.monotonic) -> None:
        self._due = due
        self._clock = clock
        self._rooms: dict[str, _Room] = {}
        self.batches = 0

    def take(self, room: str, frame: dict[str, Any], members: int) -> bool:
        """A presence event (its wire map) for ``room``: True when it is kept for the
        room's next batch, False when the caller should send it now."""
        now = self._clock()
        state = self._rooms.get(room)
        if state is None:
            self._rooms[room] = _Room(now)
            return False
        if state.timer is None:
            wait = state.last + window(members) - now
            if wait <= 0:
                state.last = now
                return False
            state.timer = asyncio.get_running_loop().call_later(wait, self._due, room)
        state.events.append(
            Presence(room, str(frame["event"]), str(frame["handle"]), str(frame["role"]))
        )
        return True

    def pending(self, room: str) -> bool:
        state = self._rooms.get(room)
        return state is not None and state.timer is not None

    def flush(self, room: str) -> Presence | PresenceBatch | None:
        """The frame of ``room``'s kept events, to send now (its window ended, or a
        message must follow them); None when none are kept."""
        state = self._rooms.get(room)
        if state is None or state.timer is None:
            return None
        state.timer.cancel()
        state.timer = None
        events, state.events = state.events, []
        state.last = self._clock()
        self.batches += 1
        return batch(room, events)

    def drop(self, room: str) -> None:
        """The room has no local member any more: forget it, send nothing."""
        state = self._rooms.pop(room, None)
        if state is not None and state.timer is not None:
            state.timer.cancel()
