"""The belonging frames and fields: languages, needs, the language choice and supportive
reactions round-trip in both encodings; anything outside the fixed sets is refused with a
clear ``invalid_frame``; frames from clients that know none of this still decode."""

from __future__ import annotations

import re
from typing import Any

import msgpack
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import JSON, MSGPACK, ErrorCode, ProtocolError, decode_client, decode_server, encode
from protocol.belonging import LanguageUnavailable, React, Reactions, SupportChoice
from protocol.codec import Codec
from protocol.fields import CHOICES, NEEDS, REACTIONS
from protocol.messages import (
    Join,
    Joined,
    LanguageInfo,
    Listen,
    Member,
    Paired,
    QueueInfo,
    QueueStatus,
    RequestSupport,
)

CODECS = pytest.mark.parametrize("codec", [JSON, MSGPACK], ids=["json", "msgpack"])
languages = st.from_regex(r"[a-z]{2,3}", fullmatch=True)
reactions = st.sampled_from(REACTIONS)


def wire(frame: Any, codec: Codec) -> bytes | str:
    data = encode(frame, codec)
    return data.decode() if codec.text else data


def raw(value: dict[str, Any], codec: Codec) -> bytes | str:
    return orjson.dumps(value).decode() if codec.text else msgpack.packb(value)


def refused(value: dict[str, Any], codec: Codec) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        decode_client(raw(value, codec), codec)
    return info.value


def test_the_fixed_sets_are_kind_and_small() -> None:
    assert REACTIONS == ("hear_you", "strength", "same_here", "thanks_for_sharing")
    assert NEEDS == ("listen", "ideas")
    assert CHOICES == ("wait", "any")


@CODECS
@given(
    language=languages,
    need=st.sampled_from((None, *NEEDS)),
    choice=st.sampled_from(CHOICES),
    reaction=reactions,
    undo=st.sampled_from((None, True, False)),
)
def test_client_frames_round_trip(
    codec: Codec, language: str, need: str | None, choice: str, reaction: str, undo: bool | None
) -> None:
    for frame in (
        RequestSupport(topic="grief", ref="r1", language=language, need=need),  # type: ignore[arg-type]
        Listen(capacity=2, languages=(language, "en")),
        Join(room="grief", language=language),
        SupportChoice(choice=choice, ref="c1"),  # type: ignore[arg-type]
        React(room="grief", id="m-1", reaction=reaction, undo=undo),  # type: ignore[arg-type]
    ):
        assert decode_client(wire(frame, codec), codec) == frame


@CODECS
@given(
    language=languages,
    available=st.lists(languages, max_size=4, unique=True),
    counts=st.dictionaries(reactions, st.integers(1, 10_000), max_size=4),
    mine=st.none() | st.lists(reactions, max_size=4, unique=True).map(tuple),
)
def test_server_frames_round_trip(
    codec: Codec, language: str, available: list[str], counts: dict[str, int], mine: Any
) -> None:
    frames = (
        LanguageUnavailable(topic="grief", language=language, available=tuple(available)),
        Reactions(room="grief", id="m-1", counts=counts, mine=mine),  # type: ignore[arg-type]
        Paired(
            room="p-1",
            topic="grief",
            peer=Member("Robin", "seeker"),
            language=language,
            shared=False,
            need="listen",
        ),
        Joined(room="grief@es", handle="h", role="seeker", members=(), seq=0, language=language),
        QueueStatus(
            queues=(
                QueueInfo("grief", 3, 40, 1, (LanguageInfo(language, 3, 40, 1),)),
                QueueInfo("anxiety", 0, 0, 0),
            )
        ),
    )
    for frame in frames:
        assert decode_server(wire(frame, codec), codec) == frame


@CODECS
@given(text=st.text(max_size=12))
@settings(max_examples=300)
def test_a_language_is_two_or_three_lowercase_letters(codec: Codec, text: str) -> None:
    value = {"type": "request_support", "topic": "grief", "language": text}
    if re.fullmatch(r"[a-z]{2,3}", text):
        assert decode_client(raw(value, codec), codec) == RequestSupport("grief", language=text)
    else:
        error = refused(value, codec)
        assert error.code is ErrorCode.INVALID_FRAME
        assert "language code" in error.message


@CODECS
@given(text=st.text(max_size=20).filter(lambda t: t not in REACTIONS))
def test_only_the_supportive_reactions_are_accepted(codec: Codec, text: str) -> None:
    error = refused({"type": "react", "room": "r", "id": "m", "reaction": text}, codec)
    assert error.code is ErrorCode.INVALID_FRAME
    assert '"hear_you"' in error.message  # the error lists what is allowed


@CODECS
@pytest.mark.parametrize(
    "value",
    [
        {"type": "react", "room": "r", "id": "m", "reaction": "thumbs_down"},
        {"type": "react", "room": "r", "id": "m", "reaction": "hear_you", "text": "ok"},
        {"type": "react", "room": "r", "id": "m", "reaction": 1},
        {"type": "react", "room": "r", "reaction": "hear_you"},
        {"type": "request_support", "topic": "grief", "need": "fix_me"},
        {"type": "request_support", "topic": "grief", "language": "EN"},
        {"type": "support_choice", "choice": "later"},
        {"type": "support_choice"},
        {"type": "listen", "capacity": 1, "languages": ["en", "english"]},
        {"type": "join", "room": "grief", "language": ""},
    ],
)
def test_bad_values_get_invalid_frame(codec: Codec, value: dict[str, Any]) -> None:
    assert refused(value, codec).code is ErrorCode.INVALID_FRAME


@CODECS
def test_counts_name_only_known_reactions(codec: Codec) -> None:
    value = {"type": "reactions", "room": "r", "id": "m", "counts": {"angry": 2}}
    with pytest.raises(ProtocolError) as info:
        decode_server(raw(value, codec), codec)
    assert info.value.code is ErrorCode.INVALID_FRAME


@CODECS
def test_frames_of_older_clients_still_decode(codec: Codec) -> None:
    """Every new field is optional: a client that never heard of languages works as before."""
    assert decode_client(raw({"type": "request_support", "topic": "grief"}, codec), codec) == (
        RequestSupport(topic="grief")
    )
    assert decode_client(raw({"type": "listen", "capacity": 1}, codec), codec) == Listen(1)
    assert decode_client(raw({"type": "join", "room": "grief"}, codec), codec) == Join("grief")


def test_unset_fields_stay_off_the_wire() -> None:
    assert (
        encode(RequestSupport(topic="grief"), JSON) == b'{"type":"request_support","topic":"grief"}'
    )
    assert encode(Reactions(room="r", id="m", counts={}), JSON) == (
        b'{"type":"reactions","room":"r","id":"m","counts":{}}'
    )
