"""A participant's session: who they are to the rooms, independent of any one socket.

A session outlives its websocket for the resume grace period, so a phone that switches
networks gets its handle, role and rooms back. All per-participant state lives here, and
so does every change to it: other modules read fields and call the methods below, they
never assign a field (h11's "Rule 1": everything that affects the state lives in one place).

The delivery gate lives here too. Rule: **nothing of a room reaches a client before the
``joined`` (or ``resumed``) that announces its seq.** While a seat is being taken or a
session resumed, :meth:`Session.park` holds deliveries; :meth:`Session.hold` is what the
hub calls for a parked member; :meth:`Session.release` sends history then what was
parked, each message once and in order.
"""

from __future__ import annotations

import random
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import msgpack

from chatserver import fanout
from chatserver.envelopes import unpack
from chatserver.texts import localised
from protocol import Codec, ServerFrame, encode

#: Frames the sender's recent-message context keeps per room, for the safety filters.
RECENT_MESSAGES = 5
#: Store keys of used resume tokens a session remembers (their markers go when it ends).
SPENT_KEYS = 4


def new_session_id() -> str:
    return secrets.token_hex(8)


#: Message ids need to be unique, not secret (they grant nothing: a report names a message
#: in a room the reporter is in), so they come from a fast generator seeded from the OS:
#: one id per message must not cost a system call.
_message_ids = random.Random(secrets.randbits(128))


def new_message_id() -> str:
    return f"{_message_ids.getrandbits(64):016x}"


def new_resume_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits from the OS CSPRNG


@dataclass(slots=True, eq=False)
class Session:
    """One participant. ``ws`` is None while the socket is gone and the seat is kept."""

    id: str
    handle: str
    role: str
    codec: Codec
    resume_token: str
    ws: Any = None  # websockets ServerConnection, or a test double
    locale: str | None = None
    display_name: str | None = None
    listener_id: str | None = None
    listener_topics: tuple[str, ...] = ()
    #: the languages a listener's token says they support seekers in (empty: not stated)
    listener_languages: tuple[str, ...] = ()
    #: wall-clock expiry of the listener's token (0: not signed in)
    listener_exp: float = 0.0
    #: wall-clock time of the sign-in: a newer sign-in of the same listener id wins
    signed_in_at: float = 0.0
    #: the client's address, for the per-address seat share only: memory only, never in
    #: a snapshot, a log line or a frame
    address: str | None = None
    #: a safety filter saw a crisis signal from this person: first in line for a listener
    at_risk: bool = False
    detached_at: float | None = None
    #: room -> the handle this session holds there
    rooms: dict[str, str] = field(default_factory=dict)
    #: room -> the sender's last few texts, oldest first (memory only, for the filters)
    recent: dict[str, deque[str]] = field(default_factory=dict)
    #: while resuming: deliveries that arrived during replay, as (room, seq, bytes)
    pending: list[tuple[str, int, bytes]] | None = None
    closing: bool = False
    #: when the snapshot was last saved to the session store (monotonic seconds; 0: never)
    saved_at: float = 0.0
    #: the last saved snapshot has the at-risk mark
    saved_at_risk: bool = False
    #: session store keys of the resume tokens this session used (most recent last)
    spent: list[str] = field(default_factory=list)
    #: session ids whose messages this person chose not to receive
    muted: set[str] = field(default_factory=set)
    #: wall-clock time until which a moderator paused this session's messages
    suspended_until: float = 0.0
    #: topic -> wall-clock time until which its group rooms are closed to this session
    cooldowns: dict[str, float] = field(default_factory=dict)
    #: room -> monotonic time of the last message (slow mode)
    last_said: dict[str, float] = field(default_factory=dict)

    def snapshot(self, node: str) -> bytes:
        """What another node needs to resume this session: no text, no token."""
        data: bytes = msgpack.packb(
            {
                "id": self.id,
                "handle": self.handle,
                "role": self.role,
                "rooms": self.rooms,
                "node": node,
                "locale": self.locale,
                "name": self.display_name,
                "lid": self.listener_id,
                "topics": list(self.listener_topics),
                "langs": list(self.listener_languages),
                "exp": self.listener_exp,
                "si": self.signed_in_at,
                "spent": self.spent,
                "risk": self.at_risk,
                "muted": sorted(self.muted),
                "susp": self.suspended_until,
                "cool": self.cooldowns,
            }
        )
        return data

    @classmethod
    def restore(cls, snapshot: bytes, codec: Codec, ws: Any, token: str) -> tuple[Session, str]:
        """A session rebuilt from :meth:`snapshot`, and the node that held it."""
        data = msgpack.unpackb(snapshot, raw=False)
        session = cls(
            id=data["id"],
            handle=data["handle"],
            role=data["role"],
            codec=codec,
            resume_token=token,
            ws=ws,
            locale=data.get("locale"),
            display_name=data.get("name"),
            listener_id=data.get("lid"),
            listener_topics=tuple(data.get("topics") or ()),
            listener_languages=tuple(data.get("langs") or ()),
            listener_exp=float(data.get("exp") or 0.0),
            signed_in_at=float(data.get("si") or 0.0),
            at_risk=bool(data.get("risk")),
        )
        session.rooms = dict(data.get("rooms") or {})
        session.muted = set(data.get("muted") or ())
        session.suspended_until = float(data.get("susp") or 0.0)
        session.cooldowns = dict(data.get("cool") or {})
        session.spent = [str(key) for key in data.get("spent") or ()][-SPENT_KEYS:]
        return session, str(data.get("node", ""))

    # ------------------------------------------------------------------ changes

    def authenticate(
        self,
        role: str,
        name: str,
        listener_id: str | None,
        topics: tuple[str, ...],
        *,
        expires: float = 0.0,
        at: float = 0.0,
        languages: tuple[str, ...] = (),
    ) -> None:
        """A verified listener or moderator sign-in at ``at``: the role and name it grants,
        until ``expires`` (both wall-clock seconds)."""
        self.role = role
        self.display_name = name
        self.handle = name
        self.listener_id = listener_id
        self.listener_topics = topics
        self.listener_languages = languages
        self.listener_exp = expires
        self.signed_in_at = at

    def demote(self, handle: str) -> None:
        """The sign-in ended (revoked, expired, taken over): an anonymous seeker again,
        under a new handle (the old one was the listener's display name)."""
        self.role = "seeker"
        self.handle = handle
        self.display_name = None
        self.listener_id = None
        self.listener_topics = ()
        self.listener_languages = ()
        self.listener_exp = 0.0
        self.signed_in_at = 0.0

    def bind(self, ws: Any, codec: Codec, locale: str | None) -> None:
        """A socket (a fresh one, on resume) now carries this session."""
        self.ws, self.codec, self.detached_at, self.closing = ws, codec, None, False
        self.locale = locale or self.locale

    def located(self, address: str | None) -> None:
        """The address of the socket that now carries the session (see ``address``)."""
        self.address = address

    def unbind(self) -> None:
        self.ws = None

    def detach(self, now: float) -> None:
        """The socket dropped; the seats are kept for the resume grace from ``now``."""
        self.detached_at = now

    def stop_sending(self) -> None:
        """No more frames to this session's socket (it is closing, or moved away)."""
        self.closing = True

    def rotate_token(self, spent_key: str) -> None:
        """A new resume token; ``spent_key`` is the store key of the one just used."""
        self.spent = [*self.spent, spent_key][-SPENT_KEYS:]
        self.resume_token = new_resume_token()

    def saved(self, now: float) -> None:
        self.saved_at = now
        self.saved_at_risk = self.at_risk

    def seated(self, room: str, handle: str) -> None:
        self.rooms[room] = handle

    def unseated(self, room: str) -> str | None:
        """Leave ``room``: its handle, or None when not in it."""
        self.recent.pop(room, None)
        return self.rooms.pop(room, None)

    def mark_at_risk(self) -> None:
        self.at_risk = True

    def mute(self, session_id: str) -> None:
        self.muted.add(session_id)

    def suspend(self, until: float) -> None:
        self.suspended_until = until

    def cool_down(self, topic: str, until: float) -> None:
        self.cooldowns[topic] = until

    def said(self, room: str, now: float) -> None:
        """A message in ``room`` passed slow mode at ``now``."""
        self.last_said[room] = now

    # ------------------------------------------------------------------ delivery gate

    def park(self) -> bool:
        """Hold deliveries until :meth:`release`. False when already parked (an outer
        seat or resume releases them)."""
        if self.pending is not None:
            return False
        self.pending = []
        return True

    def hold(self, room: str, seq: int, payload: bytes) -> None:
        """The hub's side of the gate: a delivery for a parked session waits."""
        if self.pending is not None:
            self.pending.append((room, seq, payload))

    def unpark(self) -> None:
        """Drop the gate without sending (the resume that parked failed)."""
        self.pending = None

    def release(
        self,
        backlog: list[tuple[str, int, bytes]],
        *,
        floor: dict[str, int] | None = None,
        drop: str | None = None,
    ) -> None:
        """Send ``backlog`` then what was parked meanwhile, each message once, in order.
        Messages at or below ``floor[room]`` are not owed (the client starts after it);
        nothing of room ``drop`` is sent (its join failed)."""
        pending, self.pending = self.pending or [], None
        sent: dict[str, int] = dict(floor or {})
        for room, seq, payload in backlog + pending:
            if room == drop:
                continue
            if seq and seq <= sent.get(room, 0):
                continue  # already sent from history
            if seq:
                sent[room] = seq
            data, sender = unpack(payload, seq)
            if sender is None or sender not in self.muted:
                self.send_bytes(self.codec.dumps(data))

    # ------------------------------------------------------------------ reads

    def remember(self, room: str, text: str) -> tuple[str, ...]:
        """Record ``text`` as said in ``room``; return what was said before it."""
        history = self.recent.get(room)
        if history is None:
            history = self.recent[room] = deque(maxlen=RECENT_MESSAGES)
        before = tuple(history)
        history.append(text)
        return before

    def send(self, frame: ServerFrame) -> None:
        """Queue one frame on the socket without waiting; dropped when detached. A
        sentence for the person is sent in their language (``texts.localised``)."""
        self.send_bytes(encode(localised(frame, self.locale), self.codec))

    def send_bytes(self, data: bytes) -> None:
        ws = self.ws
        if ws is None or self.closing:
            return
        fanout.send((ws,), data, text=self.codec.text)
