"""Examples of the belonging frames and fields (languages, need, the language choice,
reactions), appended to :data:`protocol.examples.EXAMPLES`: the source of their vectors
and of the examples in the SPEC text."""

from __future__ import annotations

from protocol.belonging import LanguageUnavailable, React, Reactions, SupportChoice
from protocol.messages import (
    Authed,
    ClientFrame,
    Join,
    Joined,
    LanguageInfo,
    Listen,
    Listening,
    Member,
    Paired,
    QueueInfo,
    QueuePosition,
    QueueStatus,
    RequestSupport,
    ServerFrame,
)

BELONGING_EXAMPLES: list[tuple[str, str, ClientFrame | ServerFrame]] = [
    (
        "client",
        "request_support_in_spanish",
        RequestSupport(topic="grief", ref="30", language="es", need="listen"),
    ),
    ("client", "support_choice", SupportChoice(choice="any", ref="31")),
    ("client", "support_choice_wait", SupportChoice(choice="wait", ref="32")),
    (
        "client",
        "listen_with_languages",
        Listen(capacity=2, topics=("grief",), auto=True, ref="33", languages=("es", "en")),
    ),
    ("client", "join_in_spanish", Join(room="grief", ref="34", language="es")),
    ("client", "react", React(room="grief@es", id="m-5", reaction="hear_you", ref="35")),
    (
        "client",
        "react_undo",
        React(room="grief@es", id="m-5", reaction="hear_you", undo=True, ref="36"),
    ),
    (
        "server",
        "queue_position_in_spanish",
        QueuePosition(topic="grief", position=1, eta=60, ref="30", language="es"),
    ),
    (
        "server",
        "language_unavailable",
        LanguageUnavailable(topic="grief", language="es", available=("en",)),
    ),
    (
        "server",
        "paired_with_need",
        Paired(
            room="p-2b8e41c07d9a",
            topic="grief",
            peer=Member("Robin", "seeker"),
            language="es",
            shared=True,
            need="listen",
        ),
    ),
    (
        "server",
        "paired_any_listener",
        Paired(
            room="p-9c0d3e5f7a1b",
            topic="grief",
            peer=Member("Sam", "listener"),
            language="es",
            shared=False,
        ),
    ),
    (
        "server",
        "authed_with_languages",
        Authed(
            role="listener", display_name="Ana", topics=("grief",), ref="7", languages=("es", "en")
        ),
    ),
    (
        "server",
        "listening_with_languages",
        Listening(
            capacity=2, topics=("grief",), active=0, auto=True, ref="33", languages=("es", "en")
        ),
    ),
    (
        "server",
        "joined_in_spanish",
        Joined(
            room="grief@es",
            handle="Quiet Heron",
            role="seeker",
            members=(Member("Calm Otter", "seeker"),),
            seq=12,
            ref="34",
            language="es",
        ),
    ),
    (
        "server",
        "queue_status_by_language",
        QueueStatus(
            queues=(
                QueueInfo(
                    topic="grief",
                    waiting=3,
                    longest_wait=140,
                    at_risk=1,
                    languages=(LanguageInfo("en", 2, 140, 1), LanguageInfo("es", 1, 35, 0)),
                ),
            )
        ),
    ),
    (
        "server",
        "reactions",
        Reactions(room="grief@es", id="m-5", counts={"hear_you": 3, "strength": 1}),
    ),
    (
        "server",
        "reactions_answer",
        Reactions(
            room="grief@es",
            id="m-5",
            counts={"hear_you": 4, "strength": 1},
            mine=("hear_you",),
            ref="35",
        ),
    ),
]
