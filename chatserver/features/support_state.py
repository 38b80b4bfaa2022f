"""What one-to-one support remembers on this node, and the words it says.

The pairing store decides (one atomic operation per decision); this is only this node's
view of its own sessions: who waits here, who listens here, which private rooms they hold.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from chatserver.envelopes import ChatOver
from chatserver.pairing.base import MAX_AVOID, Holdings, Pair, Seat, Tier, Waiting
from chatserver.session import Session

#: Recent matches per topic used to estimate waits.
ETA_WINDOW = 20

ENDED_TEXT = {
    "ended_by_seeker": "The chat has ended. Thank you for being there.",
    "ended_by_listener": "{name} has ended the chat. Thank you for reaching out; "
    "you can come back any time.",
    "listener_left": "{name} had to leave. You're first in line for the next listener, "
    "so please stay if you can.",
    "handed_over": "You handed this chat over. Thank you.",
    "seeker_left": "The person you were talking with has left the chat.",
}
HANDOVER_TEXT = "{name} has handed your chat to {new}, who is here for you now."
BLOCKED_TEXT = "You've left this chat, and you won't hear from that person again. Take care."
REQUEUED_TEXT = "You're first in line for the next listener. Thank you for waiting."
ACCEPT_GONE_TEXT = (
    "That person's connection dropped just now, so they keep their place in line. "
    "Nobody else is waiting on your topics right now."
)


def avoided(session: Session) -> tuple[str, ...]:
    """Who a seeker must not be paired with: the people they blocked (a block also mutes)
    or muted, by session id; seats are keyed by the listener's session id."""
    return tuple(sorted(session.muted))[-MAX_AVOID:]


def private_room() -> str:
    return "p-" + secrets.token_hex(6)


def listener_left(pair: Pair) -> ChatOver:
    """To the seeker's node: the listener is gone; the seeker goes first in line."""
    return ChatOver(pair.room, "listener_left", listener=pair.listener, requeue=pair)


def ended_by(session: Session, pair: Pair) -> str:
    return "ended_by_seeker" if session.id == pair.seeker else "ended_by_listener"


class EtaEstimator:
    """Expected wait from the pace of recent matches on a topic: position x interval."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._matches: dict[str, deque[float]] = {}
        self._clock = clock

    def matched(self, topic: str) -> None:
        self._matches.setdefault(topic, deque(maxlen=ETA_WINDOW)).append(self._clock())

    def eta(self, topic: str, position: int) -> int | None:
        times = self._matches.get(topic)
        if times is None or len(times) < 2:
            return None
        interval = (times[-1] - times[0]) / (len(times) - 1)
        return max(1, round(interval * position))


@dataclass(slots=True)
class SupportState:
    """This node's view, and what it writes back when the store lost its data: so every
    record a local session has in the store is also here (see :meth:`holdings`)."""

    eta: EtaEstimator
    #: local seekers waiting: session id -> (topic, last position sent)
    waiting: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: their places in line as the store holds them (tier, arrival, avoid list)
    places: dict[str, Waiting] = field(default_factory=dict)
    #: local waiting seekers the store holds as away (their connection is down)
    away: set[str] = field(default_factory=set)
    #: local listeners who sent `listen`: session id -> session
    listeners: dict[str, Session] = field(default_factory=dict)
    #: their seats' offers (capacity, topics, auto)
    seats: dict[str, Seat] = field(default_factory=dict)
    #: private rooms held by local sessions: room -> Pair
    pairs: dict[str, Pair] = field(default_factory=dict)
    status_due: bool = False
    #: topic -> the language labels of its queue last exported (so an emptied one is zeroed)
    lines: dict[str, set[str]] = field(default_factory=dict)
    #: local seekers who chose "any listener" for their current request (kept on requeue)
    chose_any: set[str] = field(default_factory=set)

    def is_busy(self, session: Session) -> bool:
        return session.id in self.waiting or session.id in self.listeners

    def wait(self, place: Waiting, position: int) -> None:
        """A local seeker is in line at ``place`` (last told ``position``)."""
        self.waiting[place.seeker] = (place.topic, position)
        self.places[place.seeker] = place

    def unwait(self, seeker: str) -> Waiting | None:
        """A local seeker is no longer in line (paired, cancelled, gone)."""
        self.waiting.pop(seeker, None)
        self.away.discard(seeker)
        return self.places.pop(seeker, None)

    def at_risk(self, seeker: str) -> None:
        place = self.places.get(seeker)
        if place is not None:
            self.places[seeker] = replace(place, tier=Tier(min(place.tier, Tier.AT_RISK)))

    def listening(self, session: Session, seat: Seat) -> None:
        self.listeners[session.id] = session
        self.seats[session.id] = seat

    def unlisten(self, listener: str) -> None:
        self.listeners.pop(listener, None)
        self.seats.pop(listener, None)

    def forget(self, session_id: str) -> None:
        """The session moved to another node: drop local bookkeeping, keep the store."""
        self.unwait(session_id)
        self.unlisten(session_id)
        self.chose_any.discard(session_id)
        for room in [r for r, p in self.pairs.items() if session_id in (p.seeker, p.listener)]:
            del self.pairs[room]

    def holdings(self) -> Holdings:
        """Every record of this node's sessions. Chats are written back by their
        listener's node (its view is current, also after a handover), each seat counting
        the chats its listener is still in."""
        current = [
            pair
            for pair in self.pairs.values()
            if (listener := self.listeners.get(pair.listener)) is not None
            and pair.room in listener.rooms
        ]
        seats = tuple(
            replace(seat, active=sum(1 for p in current if p.listener == lid))
            for lid, seat in self.seats.items()
            if lid in self.listeners
        )
        return Holdings(
            tuple(self.places.values()),
            frozenset(self.away),
            seats,
            tuple(current),
            tuple(self.pairs),
        )
