"""One example of every frame: the source of protocol/vectors/frames.json and of SPEC.md's
examples. Every frame type must appear here (a test checks it)."""

from __future__ import annotations

from protocol.messages import (
    Ack,
    ClientFrame,
    Error,
    Join,
    Joined,
    Leave,
    Left,
    Member,
    Message,
    Notice,
    Ping,
    Pong,
    Presence,
    Resume,
    Resumed,
    Say,
    ServerFrame,
    Typing,
    TypingEvent,
    Welcome,
)

EXAMPLES: list[tuple[str, str, ClientFrame | ServerFrame]] = [
    ("client", "join", Join(room="anxiety", ref="1")),
    ("client", "leave", Leave(room="anxiety", ref="2")),
    ("client", "say", Say(room="anxiety", text="Hi, is anyone around tonight?", ref="3")),
    ("client", "say_with_warning", Say(room="trauma", text="…", ref="4", cw="violence")),
    ("client", "typing", Typing(room="anxiety", active=True)),
    ("client", "ping", Ping(ref="5")),
    (
        "client",
        "resume",
        Resume(token="q4Jm0v2Yx9bL3kTzA1cW8eRr5uNn7sPd", last_seq={"anxiety": 41}, ref="6"),
    ),
    (
        "server",
        "welcome",
        Welcome(
            session="9f2c4e1a7b3d5e60",
            handle="Calm Heron",
            role="seeker",
            resume_token="q4Jm0v2Yx9bL3kTzA1cW8eRr5uNn7sPd",
            topics=("anxiety", "grief"),
            max_text=4000,
        ),
    ),
    (
        "server",
        "joined",
        Joined(
            room="anxiety",
            handle="Calm Heron",
            role="seeker",
            members=(Member("Calm Heron", "seeker"), Member("Kind Otter", "listener")),
            seq=41,
            ref="1",
        ),
    ),
    ("server", "left", Left(room="anxiety", ref="2")),
    (
        "server",
        "presence",
        Presence(room="anxiety", event="join", handle="Quiet Fox", role="seeker"),
    ),
    (
        "server",
        "message",
        Message(
            room="anxiety",
            id="5b1e0c9d2a4f6e83",
            seq=42,
            handle="Calm Heron",
            role="seeker",
            text="Hi, is anyone around tonight?",
            ts=1795000000000,
        ),
    ),
    ("server", "typing", TypingEvent(room="anxiety", handle="Kind Otter", active=True)),
    ("server", "ack", Ack(room="anxiety", id="5b1e0c9d2a4f6e83", seq=42, ref="3")),
    (
        "server",
        "resumed",
        Resumed(
            session="9f2c4e1a7b3d5e60",
            handle="Calm Heron",
            role="seeker",
            resume_token="Zx8wV7uT6sR5qP4oN3mL2kJ1iH0gF9eD",
            rooms={"anxiety": 44},
            ref="6",
        ),
    ),
    (
        "server",
        "error",
        Error(
            code="unavailable",
            message="We couldn't send that just now. Please try again in a moment.",
            ref="3",
            retry_after=2000,
        ),
    ),
    (
        "server",
        "notice",
        Notice(code="degraded", text="Messages may be slow for a moment.", level="warning"),
    ),
    ("server", "pong", Pong(ref="5")),
]
