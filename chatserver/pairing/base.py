"""The pairing store interface: queues, listener seats and pairs, shared by all nodes.

Every decision that could race between nodes (pop a seeker and take a listener's seat,
end a pair and free the seat, hand a pair over) is one atomic operation of the store, so
two nodes can never pair the same seeker or push a listener over capacity. Twins:
:mod:`.memory` (one process) and :mod:`.redis` (Lua scripts); both pass
``tests/contracts/test_pairing_contract.py``.

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
    """The seekers of one topic who write in ``language`` (whichever line they are in)."""

    language: str
    waiting: int
    oldest_since: float | None
    at_risk: int


@dataclass(frozen=True, slots=True)
class TopicQueue:
    topic: str
    waiting: int
    oldest_since: float | None
    at_risk: int
    #: the same counts per seeker language, sorted by language
    languages: tuple[LanguageQueue, ...] = ()


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
        """The languages (sorted) of listeners with a seat of capacity > 0 on ``topic``:
        what a seeker is told when nobody speaks theirs."""

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
        is none. Each line is scanned up to :data:`MATCH_SCAN` from its head; the first
        in queue order of the lines' candidates wins. The listener: one who speaks the
        seeker's language, then the least loaded, then the smallest id."""

    async def accept(self, listener: str, topic: str | None, room: str, now: float) -> Pair | None:
        """Pair the first seeker of ``topic`` (or of any topic of the listener) that this
        listener can take (:func:`can_take`) with it, within its capacity, atomically."""

    async def pair_of(self, room: str) -> Pair | None: ...

    async def end(self, room: str) -> Pair | None:
        """Delete a pair and free the listener's seat. Only the first caller gets it."""

    async def handover(self, room: str) -> Pair | None:
        """Move a pair to another auto listener of its topic with a free seat (not the
        current one, nor one its seeker avoids; one who speaks the seeker's language if
        the current one does, else a speaker first), freeing the old seat. None (nothing
        changed) when there is none."""

    async def relocate(self, session: str, node: str) -> None:
        """A session resumed on ``node``: point its queue place, seat and pairs there."""

    async def queues(self, topics: Sequence[str]) -> list[TopicQueue]: ...

    async def seat(self, listener: str) -> Seat | None: ...

    async def order(self, topic: str) -> list[str]:
        """The seeker ids of ``topic``'s queue, first in line first (one round trip)."""

    async def waiting(self, topic: str) -> list[Waiting]:
        """The queue of ``topic``, in order (for tests and position updates)."""
