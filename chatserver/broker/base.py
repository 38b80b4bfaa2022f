"""The broker interface: what a node needs from whatever carries rooms between nodes.

The broker only moves bytes and keeps a room's shared state (sequence, short replay
history, presence); local fan-out to sockets lives in :mod:`chatserver.hub` (Phoenix's
PubSub adapter cut). Two implementations: :mod:`.memory` (one process, the default) and
:mod:`.redis` (many nodes). Both pass ``tests/contracts/test_broker_contract.py``.

Exception tree::

    BrokerError               base of every broker failure
     +-- BrokerUnavailable    the backing service cannot be reached right now; retry later
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

#: Called for every payload published to a room this node subscribes to: (room, seq, payload).
#: ``seq`` is 0 for unsequenced events (presence, typing). It must not block.
Deliver = Callable[[str, int, bytes], None]
#: Called when the broker becomes reachable (True) or unreachable (False).
HealthChanged = Callable[[bool], None]
#: Called once per member removed because its node died and its person did not resume
#: elsewhere within the hold (the resume grace): (room, handle, member bytes). Exactly one
#: surviving node gets each eviction, so it publishes the ``leave`` event.
Evicted = Callable[[str, str, bytes], Awaitable[None]]


class BrokerError(Exception):
    """Base of broker failures."""


class BrokerUnavailable(BrokerError):
    """The backing service is unreachable; the operation was not carried out."""


class Claim(enum.Enum):
    """Outcome of claiming a seat in a room."""

    OK = "ok"
    TAKEN = "taken"  # another member holds that handle: try another
    FULL = "full"  # the room already has ``capacity`` members
    GONE = "gone"  # reclaim: the room no longer exists


@dataclass(frozen=True, slots=True)
class Entry:
    """One message of a room's replay history."""

    seq: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class BrokerStatistics:
    healthy: bool
    subscriptions: int
    published: int
    delivered: int
    #: background tasks that crashed since start (each was restarted)
    crashed: int = 0


class Broker(Protocol):
    node_id: str

    async def start(
        self,
        deliver: Deliver,
        on_health: HealthChanged | None = None,
        on_evict: Evicted | None = None,
    ) -> None:
        """Connect and begin delivering. Must be called once before anything else.

        ``on_evict`` is awaited for each member of a dead node that this node removed."""

    async def close(self) -> None: ...

    @property
    def healthy(self) -> bool: ...

    def statistics(self) -> BrokerStatistics: ...

    async def subscribe(self, room: str) -> None:
        """Start delivering ``room`` to this node. Callers reference-count; this does not."""

    async def unsubscribe(self, room: str) -> None: ...

    async def publish(self, room: str, payload: bytes, *, sequenced: bool) -> int:
        """Relay ``payload`` to every node subscribed to ``room``.

        With ``sequenced``: assign the room's next sequence number, append to the replay
        history and publish, atomically, and return the number. Otherwise return 0.
        Raises :class:`BrokerUnavailable` when nothing was published.
        """

    async def publish_once(
        self, room: str, payload: bytes, marker: bytes
    ) -> tuple[int, bytes | None]:
        """Publish ``payload`` as a sequenced message unless an entry still in the room's
        history contains ``marker``: then publish nothing and return that entry's
        ``(seq, payload)``. Otherwise ``(new seq, None)``. Atomic: the way to send again a
        message whose fate is unknown (its ack was lost with a connection).
        Raises :class:`BrokerUnavailable` when nothing was published."""

    async def history(self, room: str, after: int) -> list[Entry]:
        """Messages of ``room`` with ``seq > after`` still in the replay history, in order."""

    async def last_seq(self, room: str) -> int: ...

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
        """Atomically record ``handle`` as present in ``room``: TAKEN if another member
        holds it, FULL if ``capacity`` > 0 and the room already has that many members
        whose seats are not held (see :meth:`hold`).

        The broker never reads ``member`` (the caller's encoding). Beside it, it keeps the
        seat's ``owner`` (an opaque string: only :meth:`reclaim` with the same non-empty
        owner may take the seat back) and ``flags``: names of room flags that leave with
        this member, dropped atomically by :meth:`release` and by eviction."""

    async def reclaim(
        self, room: str, handle: str, member: bytes, owner: str, *, flags: Sequence[str] = ()
    ) -> Claim:
        """Take back a seat after a resume, possibly on another node: overwrite the member
        value of ``handle`` if the seat's recorded owner is ``owner`` (compared as opaque
        strings; an empty owner never matches), so the seat moves here without a
        leave/join. ``flags`` replace the seat's flags. TAKEN if someone else holds the
        handle, GONE if the room has no members any more (it was closed)."""

    async def hold(self, room: str, handle: str) -> None:
        """Mark ``handle``'s seat held: its person is away (a dropped connection within
        the resume grace), so the seat no longer counts against the room's capacity, yet
        stays theirs: a :meth:`reclaim` by its owner clears the mark, even if the room
        is then briefly over capacity. The Redis twin also holds every seat of a dead
        node this way until its hold runs out. Nothing happens for an absent seat."""

    async def release(self, room: str, handle: str) -> bool:
        """Remove ``handle`` from ``room`` with the flags its seat named; when the room is
        then empty, delete all its state (sequence, history, presence, flags) and return
        True."""

    async def members(self, room: str) -> Mapping[str, bytes]: ...

    async def set_flag(self, room: str, name: str, value: int) -> bool:
        """Record a room setting (slow mode, consent) with the room's state, so a node that
        had no member in the room when it changed learns it when one joins. Deleted with
        the rest of the room's state when the room closes. Only while the room has
        members: False (nothing recorded) for a closed room, whose name may come back."""

    async def flags(self, room: str) -> Mapping[str, int]:
        """The room's settings recorded with :meth:`set_flag` (empty when none)."""
