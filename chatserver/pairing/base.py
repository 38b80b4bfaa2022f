"""The pairing store interface: queues, listener seats and pairs, shared by all nodes.

Every decision that could race between nodes (pop a seeker and take a listener's seat,
end a pair and free the seat, hand a pair over) is one atomic operation of the store, so
two nodes can never pair the same seeker or push a listener over capacity. Twins:
:mod:`.memory` (one process) and :mod:`.redis` (Lua scripts); both pass
``tests/contracts/test_pairing_contract.py``.

Queue order: requeued seekers (their listener had to go) first, then seekers marked at
risk by the safety filters, then everyone else; first come, first served within a tier.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

#: Most listeners one seeker can ask not to be paired with.
MAX_AVOID = 32
#: Seekers at the head of a queue that one match looks at: a seeker who can't have the
#: free listener (they blocked them) does not hold up the ones behind.
MATCH_SCAN = 16


class Tier(enum.IntEnum):
    REQUEUED = 0
    AT_RISK = 1
    NORMAL = 2


class PairingError(Exception):
    """Base of pairing failures."""


class AlreadyWaiting(PairingError):
    pass


@dataclass(frozen=True, slots=True)
class Waiting:
    seeker: str  # session id
    topic: str
    node: str
    handle: str
    since: float  # wall-clock seconds when they first asked (kept on requeue)
    tier: Tier = Tier.NORMAL
    #: listeners (seat ids) this seeker must not be paired with: those they blocked or
    #: muted. At most :data:`MAX_AVOID`.
    avoid: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Pair:
    room: str
    topic: str
    seeker: str
    seeker_node: str
    seeker_handle: str
    listener: str  # the listener's session id
    listener_node: str
    listener_name: str
    at_risk: bool
    waited: float  # seconds the seeker waited


@dataclass(frozen=True, slots=True)
class Seat:
    """A listener's offer: ``active`` of ``capacity`` chats taken."""

    listener: str
    node: str
    name: str
    topics: tuple[str, ...]
    capacity: int
    active: int
    auto: bool


@dataclass(frozen=True, slots=True)
class TopicQueue:
    topic: str
    waiting: int
    oldest_since: float | None
    at_risk: int


class PairingStore(Protocol):
    async def enqueue(self, waiting: Waiting) -> int:
        """Add a seeker to its topic's queue; returns the 1-based position.
        Raises :class:`AlreadyWaiting` if the seeker is in a queue."""

    async def cancel(self, seeker: str) -> Waiting | None:
        """Remove a seeker from whatever queue it is in."""

    async def position(self, seeker: str) -> tuple[str, int] | None:
        """(topic, 1-based position) of a waiting seeker."""

    async def mark_at_risk(self, seeker: str) -> bool:
        """Move a waiting seeker ahead of those not at risk (keeps its arrival time)."""

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
        """Create or update a listener's seat (``active`` is kept)."""

    async def withdraw(self, listener: str) -> list[Pair]:
        """Remove a listener's seat; returns its open pairs (now deleted)."""

    async def match(self, topic: str, room: str, now: float) -> Pair | None:
        """Pair the first seeker of ``topic`` with an auto listener that has a free seat,
        in the private room ``room``, atomically. None if either side is missing. A
        seeker is never paired with a listener it avoids; the next seekers (up to
        :data:`MATCH_SCAN` from the head) get their turn instead."""

    async def accept(self, listener: str, topic: str | None, room: str, now: float) -> Pair | None:
        """Pair the first seeker of ``topic`` (or of any topic of the listener) that does
        not avoid this listener with it, within its capacity, atomically."""

    async def pair_of(self, room: str) -> Pair | None: ...

    async def end(self, room: str) -> Pair | None:
        """Delete a pair and free the listener's seat. Only the first caller gets it."""

    async def handover(self, room: str) -> Pair | None:
        """Move a pair to another auto listener of its topic with a free seat (not the
        current one, nor one its seeker avoids), freeing the old seat. None (nothing
        changed) when there is none."""

    async def relocate(self, session: str, node: str) -> None:
        """A session resumed on ``node``: point its queue place, seat and pairs there."""

    async def queues(self, topics: Sequence[str]) -> list[TopicQueue]: ...

    async def seat(self, listener: str) -> Seat | None: ...

    async def order(self, topic: str) -> list[str]:
        """The seeker ids of ``topic``'s queue, first in line first (one round trip)."""

    async def waiting(self, topic: str) -> list[Waiting]:
        """The queue of ``topic``, in order (for tests and position updates)."""
