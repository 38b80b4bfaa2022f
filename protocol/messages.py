"""Frame definitions: one frozen, slotted dataclass per frame type and direction.

A frame on the wire is a map whose ``"type"`` names the class (``TYPE``) and whose other
keys are the dataclass fields. Optional fields (default ``None``) are left out when unset,
so frames stay small. The codec (:mod:`protocol.codec`) derives its validation from the
annotations here, so adding a field is a one-line change.

Client frames (``CLIENT_FRAMES``) travel client -> server; server frames
(``SERVER_FRAMES``) server -> client. The same ``type`` may exist in both directions with
different fields (``typing``), which is why there are two registries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

# --------------------------------------------------------------------------- shared parts


@dataclass(frozen=True, slots=True)
class Member:
    """A participant as others in the room see them: never more than a handle and a role."""

    handle: str
    role: str


# --------------------------------------------------------------------------- client -> server


@dataclass(frozen=True, slots=True)
class Join:
    """Join a topic's room (or a room the server gave you, such as a private chat)."""

    TYPE: ClassVar[str] = "join"
    room: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Leave:
    TYPE: ClassVar[str] = "leave"
    room: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Say:
    """Send text to a room. ``cw`` re-sends a held message behind a content warning."""

    TYPE: ClassVar[str] = "say"
    room: str
    text: str
    ref: str | None = None
    cw: str | None = None


@dataclass(frozen=True, slots=True)
class Typing:
    TYPE: ClassVar[str] = "typing"
    room: str
    active: bool


@dataclass(frozen=True, slots=True)
class Ping:
    """Application-level keepalive for clients (browsers) that cannot send websocket pings."""

    TYPE: ClassVar[str] = "ping"
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Resume:
    """Take back a previous session (same handle, role and rooms) after a reconnect.

    ``last_seq`` maps each room to the last sequence number the client saw, so the server
    sends exactly the messages it missed.
    """

    TYPE: ClassVar[str] = "resume"
    token: str
    last_seq: dict[str, int]
    ref: str | None = None


# --------------------------------------------------------------------------- server -> client


@dataclass(frozen=True, slots=True)
class Welcome:
    """First frame on every connection."""

    TYPE: ClassVar[str] = "welcome"
    session: str
    handle: str
    role: str
    resume_token: str
    topics: tuple[str, ...]
    max_text: int
    protocol: str = "chat.v1"


@dataclass(frozen=True, slots=True)
class Joined:
    """Reply to ``join``: your handle in the room, who is here, and the room's last seq."""

    TYPE: ClassVar[str] = "joined"
    room: str
    handle: str
    role: str
    members: tuple[Member, ...]
    seq: int
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Left:
    TYPE: ClassVar[str] = "left"
    room: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Presence:
    """Someone joined (``event="join"``) or left (``event="leave"``) a room you are in."""

    TYPE: ClassVar[str] = "presence"
    room: str
    event: str
    handle: str
    role: str


@dataclass(frozen=True, slots=True)
class Message:
    """A message relayed to a room. ``seq`` is gap-free per room; ``ts`` is ms since epoch."""

    TYPE: ClassVar[str] = "message"
    room: str
    id: str
    seq: int
    handle: str
    role: str
    text: str
    ts: int
    cw: str | None = None


@dataclass(frozen=True, slots=True)
class TypingEvent:
    TYPE: ClassVar[str] = "typing"
    room: str
    handle: str
    active: bool


@dataclass(frozen=True, slots=True)
class Ack:
    """Your ``say`` with this ``ref`` was accepted as message ``id`` / ``seq``."""

    TYPE: ClassVar[str] = "ack"
    room: str
    id: str
    seq: int
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Resumed:
    """Reply to ``resume``: the old session is yours again; missed messages follow."""

    TYPE: ClassVar[str] = "resumed"
    session: str
    handle: str
    role: str
    resume_token: str
    rooms: dict[str, int]
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Error:
    """A request failed; the connection stays open. ``retry_after`` is in milliseconds."""

    TYPE: ClassVar[str] = "error"
    code: str
    message: str
    ref: str | None = None
    retry_after: int | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the person should know that is not an answer to a request."""

    TYPE: ClassVar[str] = "notice"
    code: str
    text: str
    level: str = "info"
    room: str | None = None


@dataclass(frozen=True, slots=True)
class Pong:
    TYPE: ClassVar[str] = "pong"
    ref: str | None = None


ClientFrame = Join | Leave | Say | Typing | Ping | Resume
ServerFrame = (
    Welcome
    | Joined
    | Left
    | Presence
    | Message
    | TypingEvent
    | Ack
    | Resumed
    | Error
    | Notice
    | Pong
)

CLIENT_FRAMES: dict[str, type[ClientFrame]] = {
    c.TYPE: c for c in (Join, Leave, Say, Typing, Ping, Resume)
}
SERVER_FRAMES: dict[str, type[ServerFrame]] = {
    c.TYPE: c
    for c in (
        Welcome,
        Joined,
        Left,
        Presence,
        Message,
        TypingEvent,
        Ack,
        Resumed,
        Error,
        Notice,
        Pong,
    )
}
