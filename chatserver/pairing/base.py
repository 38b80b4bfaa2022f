"""The pairing store interface: queues, listener seats and pairs, shared by all nodes.

Every decision that could race between nodes (pop a seeker and take a listener's seat,
end a pair and free the seat, hand a pair over) is one atomic operation of the store, so
two nodes can never pair the same seeker or push a listener over capacity. Twins:
:mod:`.memory` (one process) and :mod:`.redis` (Lua scripts); both pass
``tests/pairing/test_store_contract.py`` and ``tests/pairing/test_nodes.py``.

Queue order: requeued seekers (their listener had to go) first, then seekers marked at
risk by the safety filters, then everyone else; first come, first served within a tier.

Languages: a topic's queue is cut into *lines*, one per seeker language, plus the line
:data:`ANY` of seekers who chose to talk with any listener (told honestly that nobody who
speaks their language is on duty). A seeker in a language line is paired only with a
listener who speaks that language; a seeker in the ANY line with any listener, one who
speaks their language first. Each line is scanned from its head (up to
:data:`MATCH_SCAN`), so a long Spanish line can never hide an English seeker, and among
the heads that can be paired the first in queue order wins: risk and arrival are honoured
across lines as within them. Queue order and positions stay topic-wide.

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

Presence and languages together: the scan of each line (:data:`MATCH_SCAN`) counts
present seekers only, so absent ones never hide anyone behind them; per-language counts
(``TopicQueue.languages``) count present seekers, like ``waiting``. A seat of a silent
node is not offered and its languages are not on duty. What a node holds and writes
back carries the seekers' languages, need and "any" choice, and the seats' languages.
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
#: The language of a seeker or listener who did not say (old clients, old tokens): the
#: behaviour is then exactly the one-language pairing of before.
DEFAULT_LANGUAGE = "en"
#: The line of seekers who chose "any listener now" (never a language tag: those are
#: two or three lowercase letters).
ANY = "*"
#: What a seeker may ask of the chat: "just listen" or "ideas welcome".
NEEDS = ("listen", "ideas")


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
    language: str = DEFAULT_LANGUAGE
    need: str | None = None  # one of NEEDS, or not said
    #: they chose "any listener now": paired with anyone, a speaker of their language first
    any_language: bool = False

    @property
    def line(self) -> str:
        """The queue line this seeker waits in: its language, or :data:`ANY`."""
        return ANY if self.any_language else self.language


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
    language: str = DEFAULT_LANGUAGE  # the seeker's
    need: str | None = None
    #: the listener speaks the seeker's language (False only for an "any listener" pair)
    shared: bool = True


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
    languages: tuple[str, ...] = (DEFAULT_LANGUAGE,)


@dataclass(frozen=True, slots=True)
class LanguageQueue:
    """The present seekers of one topic who write in ``language`` (whichever line they
    are in)."""

    language: str
    waiting: int
    oldest_since: float | None
    at_risk: int


@dataclass(frozen=True, slots=True)
class TopicQueue:
    """A queue as a listener's console shows it: present seekers only in ``waiting``,
    ``at_risk`` and ``oldest_since``; ``away`` counts the absent ones (reconnecting)."""

    topic: str
    waiting: int
    oldest_since: float | None
    at_risk: int
    #: the same counts per seeker language (present seekers), sorted by language
    languages: tuple[LanguageQueue, ...] = ()
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


def speaks(seat: Seat, waiting: Waiting) -> bool:
    return waiting.language in seat.languages


def can_take(seat: Seat, waiting: Waiting) -> bool:
    """Whether ``waiting`` may be paired with ``seat`` (its language, avoid list, topic);
    free capacity and ``auto`` are the caller's business."""
    return (
        seat.listener not in waiting.avoid
        and waiting.topic in seat.topics
        and (waiting.any_language or speaks(seat, waiting))
    )


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

    async def choose_any(self, seeker: str) -> bool:
        """The seeker chose "any listener now": move it to the :data:`ANY` line, keeping
        its tier and arrival time. False if it is not waiting or already there."""

    async def languages_on_duty(self, topic: str) -> tuple[str, ...]:
        """The languages (sorted) of listeners with a seat of capacity > 0 on ``topic``
        whose node is alive: what a seeker is told when nobody speaks theirs."""

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
        """Create or update a listener's seat (``active`` is kept)."""

    async def withdraw(self, listener: str) -> list[Pair]:
        """Remove a listener's seat; returns its open pairs (now deleted)."""

    async def match(self, topic: str, room: str, now: float) -> Pair | None:
        """Pair the first seeker of ``topic`` that an auto listener with a free seat can
        take (:func:`can_take`), in the private room ``room``, atomically. None if there
        is none. Each line is scanned up to :data:`MATCH_SCAN` present seekers from its
        head; the first in queue order of the lines' candidates wins. The listener: one
        who speaks the seeker's language, then the least loaded, then the smallest id."""

    async def accept(self, listener: str, topic: str | None, room: str, now: float) -> Pair | None:
        """Pair the first present seeker of ``topic`` (or of any topic of the listener)
        that this listener can take (:func:`can_take`) with it, within its capacity,
        atomically (each line's first :data:`MATCH_SCAN` present seekers are looked at)."""

    async def pair_of(self, room: str) -> Pair | None: ...

    async def end(self, room: str) -> Pair | None:
        """Delete a pair and free the listener's seat. Only the first caller gets it."""

    async def handover(self, room: str) -> Pair | None:
        """Move a pair to another auto listener of its topic with a free seat (not the
        current one, nor one its seeker avoids; one who speaks the seeker's language if
        the current one does, else a speaker first), freeing the old seat. None (nothing
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
