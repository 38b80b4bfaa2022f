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

from protocol.belonging import LanguageUnavailable, React, Reactions, SupportChoice
from protocol.fields import Language, Need

# --------------------------------------------------------------------------- shared parts


@dataclass(frozen=True, slots=True)
class Member:
    """A participant as others in the room see them: never more than a handle and a role."""

    handle: str
    role: str


# --------------------------------------------------------------------------- client -> server


@dataclass(frozen=True, slots=True)
class Join:
    """Join a topic's room (or a room the server gave you, such as a private chat).
    ``language``: the room of the topic in that language, where there is one."""

    TYPE: ClassVar[str] = "join"
    room: str
    ref: str | None = None
    language: Language | None = None


@dataclass(frozen=True, slots=True)
class Leave:
    TYPE: ClassVar[str] = "leave"
    room: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Say:
    """Send text to a room. ``cw`` re-sends a held message behind a content warning.
    ``cid`` is the client's own id for the message; with ``resend`` the server relays it
    only if the first copy (same ``cid``) did not get through: the way to send again a
    message whose ``ack`` was lost with a connection."""

    TYPE: ClassVar[str] = "say"
    room: str
    text: str
    ref: str | None = None
    cw: str | None = None
    cid: str | None = None
    resend: bool | None = None


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


@dataclass(frozen=True, slots=True)
class Auth:
    """Prove the listener (or moderator) role with a signed token."""

    TYPE: ClassVar[str] = "auth"
    token: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class RequestSupport:
    """A seeker asks for a one-to-one chat with a listener on ``topic`` and waits in line,
    for a listener who speaks ``language``; ``need`` tells the listener what would help."""

    TYPE: ClassVar[str] = "request_support"
    topic: str
    ref: str | None = None
    language: Language | None = None
    need: Need | None = None


@dataclass(frozen=True, slots=True)
class CancelSupport:
    TYPE: ClassVar[str] = "cancel_support"
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Listen:
    """A listener offers ``capacity`` concurrent chats (0: pause) on ``topics`` (default: all
    topics of their token). ``auto`` false: seekers are paired only on ``accept``."""

    TYPE: ClassVar[str] = "listen"
    capacity: int
    topics: tuple[str, ...] | None = None
    auto: bool | None = None
    ref: str | None = None
    languages: tuple[Language, ...] | None = None


@dataclass(frozen=True, slots=True)
class Accept:
    """A listener takes the next waiting seeker (of ``topic``, or of any of their topics)."""

    TYPE: ClassVar[str] = "accept"
    topic: str | None = None
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class EndChat:
    TYPE: ClassVar[str] = "end_chat"
    room: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Handover:
    """A listener hands a one-to-one chat to another available listener."""

    TYPE: ClassVar[str] = "handover"
    room: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Consent:
    """ "I'm ready to hear it": relaxes the trauma-dump hold in this room."""

    TYPE: ClassVar[str] = "consent"
    room: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Mute:
    """Stop receiving ``handle``'s messages in ``room`` (for the rest of your session)."""

    TYPE: ClassVar[str] = "mute"
    room: str
    handle: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Block:
    """Leave a one-to-one chat and do not hear from that person again."""

    TYPE: ClassVar[str] = "block"
    room: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """Report a message (``id``) or a participant (``handle``) to the moderators.
    ``reason``: harassment, self_harm_encouragement, sexual_content, spam, other."""

    TYPE: ClassVar[str] = "report"
    room: str
    reason: str
    id: str | None = None
    handle: str | None = None
    note: str | None = None
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Remove:
    """Listeners (in a room they serve) and moderators: remove a participant."""

    TYPE: ClassVar[str] = "remove"
    room: str
    handle: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class SlowMode:
    """Listeners: at most one message per ``seconds`` per seeker in ``room`` (0: off)."""

    TYPE: ClassVar[str] = "slow_mode"
    room: str
    seconds: int
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class EndRoom:
    TYPE: ClassVar[str] = "end_room"
    room: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class NextReport:
    """Moderators: take the oldest open report."""

    TYPE: ClassVar[str] = "next_report"
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Moderate:
    """Moderators: act on a report. ``action``: remove (from every room), suspend (for
    ``minutes``), dismiss."""

    TYPE: ClassVar[str] = "moderate"
    report: str
    action: str
    minutes: int | None = None
    ref: str | None = None


# --------------------------------------------------------------------------- server -> client


@dataclass(frozen=True, slots=True)
class Limits:
    """What this server accepts, so a client can stay inside it rather than learn by errors."""

    max_frame_bytes: int  # largest websocket frame
    rate_per_minute: int  # sustained frames a connection may send
    rate_burst: int  # frames a connection may send at once
    room_capacity: int  # most people in a group room
    resume_grace: int  # seconds a dropped session keeps its rooms for `resume`


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
    limits: Limits | None = None


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
    language: Language | None = None


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


@dataclass(frozen=True, slots=True)
class Authed:
    TYPE: ClassVar[str] = "authed"
    role: str
    display_name: str
    topics: tuple[str, ...]
    ref: str | None = None
    languages: tuple[Language, ...] | None = None


@dataclass(frozen=True, slots=True)
class QueuePosition:
    """Your place in a topic's queue (1 = next); ``eta`` is an estimate in seconds, absent
    when there is not enough recent data. Sent on request and whenever it changes."""

    TYPE: ClassVar[str] = "queue_position"
    topic: str
    position: int
    eta: int | None = None
    ref: str | None = None
    language: Language | None = None


@dataclass(frozen=True, slots=True)
class QueueLeft:
    """You are no longer waiting (``reason``: cancelled, no_listeners, ...)."""

    TYPE: ClassVar[str] = "queue_left"
    topic: str
    reason: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Paired:
    """A one-to-one chat starts in ``room``; a ``joined`` frame for it follows.
    ``language``: the seeker's; ``shared``: the listener speaks it; ``need``: what the
    seeker asked for (to the listener only)."""

    TYPE: ClassVar[str] = "paired"
    room: str
    topic: str
    peer: Member
    at_risk: bool | None = None
    ref: str | None = None
    language: Language | None = None
    shared: bool | None = None
    need: Need | None = None


@dataclass(frozen=True, slots=True)
class Listening:
    TYPE: ClassVar[str] = "listening"
    capacity: int
    topics: tuple[str, ...]
    active: int
    auto: bool
    ref: str | None = None
    languages: tuple[Language, ...] | None = None


@dataclass(frozen=True, slots=True)
class LanguageInfo:
    """The seekers of one topic who write in ``language``."""

    language: Language
    waiting: int
    longest_wait: int
    at_risk: int


@dataclass(frozen=True, slots=True)
class QueueInfo:
    topic: str
    waiting: int
    longest_wait: int
    at_risk: int
    languages: tuple[LanguageInfo, ...] | None = None


@dataclass(frozen=True, slots=True)
class QueueStatus:
    """Pushed to listeners when queues change: waiting seekers per topic."""

    TYPE: ClassVar[str] = "queue_status"
    queues: tuple[QueueInfo, ...]


@dataclass(frozen=True, slots=True)
class ChatEnded:
    """A one-to-one chat is over (``reason``: ended_by_seeker, ended_by_listener,
    listener_left, handed_over, blocked, removed, room_ended, signed_out). ``text`` is a
    kind sentence to show."""

    TYPE: ClassVar[str] = "chat_ended"
    room: str
    reason: str
    text: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Held:
    """Your message was not sent yet: the safety filters ask you to add a content warning
    (re-send with ``cw`` = ``category``) or to edit it."""

    TYPE: ClassVar[str] = "held"
    room: str
    reason: str
    category: str
    text: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Resource:
    name: str
    phone: str | None = None
    sms: str | None = None
    url: str | None = None
    hours: str | None = None


@dataclass(frozen=True, slots=True)
class Crisis:
    """Private to the writer of a message that signals risk: support, and crisis lines."""

    TYPE: ClassVar[str] = "crisis"
    text: str
    resources: tuple[Resource, ...]
    room: str | None = None


@dataclass(frozen=True, slots=True)
class Escalation:
    """To listeners: someone in ``room`` may be at risk (``handle`` wrote message ``id``)."""

    TYPE: ClassVar[str] = "escalation"
    room: str
    handle: str
    reason: str
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ConsentGiven:
    TYPE: ClassVar[str] = "consent"
    room: str
    handle: str


@dataclass(frozen=True, slots=True)
class Done:
    """A moderation request was carried out."""

    TYPE: ClassVar[str] = "done"
    action: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class RoomMode:
    """Slow mode changed in ``room``: ``slow`` seconds between a seeker's messages (0: off)."""

    TYPE: ClassVar[str] = "room_mode"
    room: str
    slow: int


@dataclass(frozen=True, slots=True)
class ReportedMessage:
    handle: str
    role: str
    text: str
    ts: int


@dataclass(frozen=True, slots=True)
class ReportItem:
    """A report for moderators: what was reported and the room's last few messages before
    it, with the reporter shown only as "(reporter)". ``expires`` is ms since epoch."""

    TYPE: ClassVar[str] = "report"
    id: str
    room: str
    reason: str
    handle: str
    context: tuple[ReportedMessage, ...]
    expires: int
    message: ReportedMessage | None = None
    note: str | None = None
    ref: str | None = None


ClientFrame = (
    Join
    | Leave
    | Say
    | Typing
    | Ping
    | Resume
    | Auth
    | RequestSupport
    | CancelSupport
    | Listen
    | Accept
    | EndChat
    | Handover
    | Consent
    | Mute
    | Block
    | Report
    | Remove
    | SlowMode
    | EndRoom
    | NextReport
    | Moderate
    | SupportChoice
    | React
)
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
    | Authed
    | QueuePosition
    | QueueLeft
    | Paired
    | Listening
    | QueueStatus
    | ChatEnded
    | Held
    | Crisis
    | Escalation
    | ConsentGiven
    | Done
    | RoomMode
    | ReportItem
    | LanguageUnavailable
    | Reactions
)

CLIENT_FRAMES: dict[str, type[ClientFrame]] = {
    c.TYPE: c
    for c in (
        Join,
        Leave,
        Say,
        Typing,
        Ping,
        Resume,
        Auth,
        RequestSupport,
        CancelSupport,
        Listen,
        Accept,
        EndChat,
        Handover,
        Consent,
        Mute,
        Block,
        Report,
        Remove,
        SlowMode,
        EndRoom,
        NextReport,
        Moderate,
        SupportChoice,
        React,
    )
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
        Authed,
        QueuePosition,
        QueueLeft,
        Paired,
        Listening,
        QueueStatus,
        ChatEnded,
        Held,
        Crisis,
        Escalation,
        ConsentGiven,
        Done,
        RoomMode,
        ReportItem,
        LanguageUnavailable,
        Reactions,
    )
}
