"""The pairing store interface: queues, listener seats and pairs, shared by all nodes.

Every decision that could race between nodes (pop a seeker and take a listener's seat,
end a pair and free the seat, hand a pair over) is one atomic operation of the store, so
two nodes can never pair the same seeker or push a listener over capacity. Twins:
:mod:`.memory` (one process) and :mod:`.redis` (Lua scripts); both pass
``tests/contracts/test_pairing_contract.py``.

Queue order: requeued seekers (their listener had to go) first, then seekers marked at
risk by the safety filters, then everyone else; first come, first served within a tier.

**Absent seekers.** A waiting seeker whose connection dropped (:meth:`PairingStore.set_away`)
or whose node went silent keeps their place but is *absent*: not paired, not accepted,
not counted in anyone's position nor in a queue's ``waiting`` (counted in ``away``)
until they are back.

**Nodes and leases.** Every node beats (:meth:`PairingStore.touch`, about once a second)
and so refreshes the lease of what it holds. A node silent for ``Liveness.dead_after`` is
dead for pairing: its seekers are absent and its listeners' seats are not offered. Its
people may resume on another node (:meth:`PairingStore.relocate`) within the resume
grace; after ``dead_after + grace`` :meth:`PairingStore.reap` ends what is still its own,
exactly once, and says who must be told. In Redis every key has a TTL of one lease; the
living refresh theirs, so when every node is gone the queues go too. When the store
lost its data (a Redis restart without persistence), ``touch`` writes back what the node
holds.

**Pairing handshake.** A pair starts *offered*: the seeker's node then seats the seeker
and :meth:`PairingStore.confirm` s it. An offered pair whose seeker cannot be seated
(away, or their node died), or that nobody confirms within ``dead_after``, is undone:
the listener's seat is free again and the seeker is back at their place in line. So no
``paired`` ever goes to a session that cannot receive it, and no seat stays taken by it.

Interface changes of issue 15 (for the language-aware pairing to come): ``TopicQueue``
gained ``away``; ``order`` lists present seekers only; new ``touch``, ``set_away``,
``confirm``, ``undo`` and ``reap``; the twins take a :class:`Liveness`.
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


@dataclass(frozen=True, slots=True)
class Liveness:
    """How the store tells a dead node from a live one, and how long what it held lasts."""

    #: seconds a node may stay silent before it is taken for dead (the presence TTL)
    dead_after: float = 15.0
    #: seconds its people then have to resume elsewhere (the resume grace)
    grace: float = 60.0

    @property
    def lease(self) -> float:
        """TTL of every stored record (Redis), refreshed by the living: it outlasts a
        dead node's grace, so the living can still reap what it held."""
        return max(2 * self.grace, 4 * self.dead_after, 1.0)


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
    """A queue as a listener's console shows it: present seekers only in ``waiting``,
    ``at_risk`` and ``oldest_since``; ``away`` counts the absent ones (reconnecting)."""

    topic: str
    waiting: int
    oldest_since: float | None
    at_risk: int
    away: int = 0


@dataclass(frozen=True, slots=True)
class Holdings:
    """What one node holds in the store: kept alive by :meth:`PairingStore.touch`, and
    written back from here when the store lost it. ``seats`` carry their ``active`` count
    as the node knows it (its pairs of that listener)."""

    waiting: tuple[Waiting, ...] = ()
    #: waiting seekers of this node whose connection is down
    away: frozenset[str] = frozenset()
    seats: tuple[Seat, ...] = ()
    #: chats this node writes back: those of its listeners (the listener's node always
    #: knows the current pair, a handover included); kept alive too
    pairs: tuple[Pair, ...] = ()
    #: every other private room of a local session, kept alive (a chat lives on while
    #: either side's node does)
    rooms: tuple[str, ...] = ()


class Touched(enum.Enum):
    """What :meth:`PairingStore.touch` found."""

    OK = "ok"
    #: the store had lost its data: everything the node holds was written back
    RESTORED = "restored"
    #: the node had been reaped as dead: its places and seats are back, its pairs gone
    REVIVED = "revived"


@dataclass(frozen=True, slots=True)
class Reaped:
    """What :meth:`PairingStore.reap` changed, for its caller to announce."""

    #: offered pairs taken back: the seeker is in line again, the seat free
    undone: tuple[Pair, ...] = ()
    #: pairs whose listener's node died and did not come back: tell the seeker's node
    listener_gone: tuple[Pair, ...] = ()
    #: pairs whose seeker's node died and did not come back: tell the listener's node
    seeker_gone: tuple[Pair, ...] = ()
    #: topics whose queue lost seekers of a dead node
    topics: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.undone or self.listener_gone or self.seeker_gone or self.topics)


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
        """A session resumed on ``node``: point its queue place, seat and pairs there
        (and it is no longer away)."""

    async def queues(self, topics: Sequence[str]) -> list[TopicQueue]: ...

    async def seat(self, listener: str) -> Seat | None: ...

    async def order(self, topic: str) -> list[str]:
        """The present seeker ids of ``topic``'s queue, first in line first (one round
        trip): index + 1 is a seeker's position."""

    async def waiting(self, topic: str) -> list[Waiting]:
        """The whole queue of ``topic``, absent seekers included, in order (for tests)."""

    async def set_away(self, seeker: str, away: bool) -> str | None:
        """A waiting seeker's connection dropped (``away``) or came back. Returns the
        topic they wait in, None when not waiting."""

    async def confirm(self, room: str) -> bool:
        """The seeker of an offered pair was seated. False when the pair was undone or
        ended meanwhile (then the seeker is not to be seated)."""

    async def undo(self, room: str) -> Waiting | None:
        """Take back an offered pair whose seeker cannot be seated now (their connection
        is down): the seat is free again and the seeker back at their place, away. None
        when the pair was confirmed or is gone."""

    async def touch(self, node: str, holdings: Holdings) -> Touched:
        """``node`` is alive: refresh the lease of what it holds. When the store lost its
        data since this node's last touch, write ``holdings`` back (what others removed
        meanwhile is not resurrected: only a store that lost everything is refilled):
        RESTORED. When the node had been taken for dead meanwhile (cut off from the store
        for longer than its grace, and reaped), write back its queue places and seats
        but not its pairs, which were ended for the other side: REVIVED."""

    async def reap(self, topics: Sequence[str]) -> Reaped:
        """Undo offered pairs that cannot complete, and end what nodes dead for longer
        than the grace still hold (their queue places in ``topics``, seats, pairs).
        Atomic and idempotent: whichever node calls it, each change happens once."""
