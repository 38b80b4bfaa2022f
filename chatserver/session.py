"""A participant's session: who they are to the rooms, independent of any one socket.

A session outlives its websocket for the resume grace period, so a phone that switches
networks gets its handle, role and rooms back. All per-participant state lives here; the
rules that change it live in :mod:`chatserver.chat`.
"""

from __future__ import annotations

import random
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import msgpack
from websockets.asyncio.connection import broadcast

from protocol import Codec, ServerFrame, encode

#: Frames the sender's recent-message context keeps per room, for the safety filters.
RECENT_MESSAGES = 5


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
            at_risk=bool(data.get("risk")),
        )
        session.rooms = dict(data.get("rooms") or {})
        session.muted = set(data.get("muted") or ())
        session.suspended_until = float(data.get("susp") or 0.0)
        session.cooldowns = dict(data.get("cool") or {})
        return session, str(data.get("node", ""))

    def remember(self, room: str, text: str) -> tuple[str, ...]:
        """Record ``text`` as said in ``room``; return what was said before it."""
        history = self.recent.get(room)
        if history is None:
            history = self.recent[room] = deque(maxlen=RECENT_MESSAGES)
        before = tuple(history)
        history.append(text)
        return before

    def send(self, frame: ServerFrame) -> None:
        """Queue one frame on the socket without waiting; dropped when detached."""
        self.send_bytes(encode(frame, self.codec))

    def send_bytes(self, data: bytes) -> None:
        ws = self.ws
        if ws is None or self.closing:
            return
        broadcast((ws,), data, text=self.codec.text)
