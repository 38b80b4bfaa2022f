"""Round trips of every frame through both encodings, and garbage that must only ever
raise ProtocolError."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import msgpack
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import (
    CLIENT_FRAMES,
    JSON,
    MSGPACK,
    SERVER_FRAMES,
    ErrorCode,
    ProtocolError,
    decode_client,
    decode_server,
    encode,
)
from protocol.codec import MAX_INT, MAX_SHORT_STRING, Codec
from protocol.fields import Pattern
from protocol.messages import Say

short_text = st.text(max_size=MAX_SHORT_STRING)
ints = st.integers(min_value=0, max_value=MAX_INT)


def strategy_for(hint: Any, name: str) -> st.SearchStrategy[Any]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        (pattern,) = (m for m in hint.__metadata__ if isinstance(m, Pattern))
        return st.from_regex(pattern.regex, fullmatch=True)
    if origin is typing.Literal:
        return st.sampled_from(args)
    if hint is str:
        return st.text(max_size=300) if name in ("text", "message") else short_text
    if hint is int:
        return ints
    if hint is bool:
        return st.booleans()
    if type(None) in args:
        (inner,) = (a for a in args if a is not type(None))
        return st.none() | strategy_for(inner, name)
    if origin is tuple:
        return st.lists(strategy_for(args[0], name), max_size=4).map(tuple)
    if origin is dict:
        keys = strategy_for(args[0], name) if args[0] is not str else short_text
        return st.dictionaries(keys, strategy_for(args[1], name), max_size=4)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint, include_extras=True)
        fields = {f.name: strategy_for(hints[f.name], f.name) for f in dataclasses.fields(hint)}
        return st.builds(hint, **fields)
    raise AssertionError(hint)


def frames(registry: dict[str, type[Any]]) -> st.SearchStrategy[Any]:
    options = []
    for cls in registry.values():
        hints = typing.get_type_hints(cls, include_extras=True)
        kwargs = {f.name: strategy_for(hints[f.name], f.name) for f in dataclasses.fields(cls)}
        options.append(st.builds(cls, **kwargs))
    return st.one_of(options)


def wire(data: bytes, codec: Codec) -> bytes | str:
    """What websockets hands the server: str for text frames, bytes for binary."""
    return data.decode() if codec.text else data


@pytest.mark.parametrize("codec", [JSON, MSGPACK], ids=["json", "msgpack"])
@given(data=st.data())
@settings(max_examples=300)
def test_client_frames_round_trip(codec: Codec, data: st.DataObject) -> None:
    frame = data.draw(frames(CLIENT_FRAMES))
    assert decode_client(wire(encode(frame, codec), codec), codec) == frame


@pytest.mark.parametrize("codec", [JSON, MSGPACK], ids=["json", "msgpack"])
@given(data=st.data())
@settings(max_examples=300)
def test_server_frames_round_trip(codec: Codec, data: st.DataObject) -> None:
    frame = data.draw(frames(SERVER_FRAMES))
    assert decode_server(wire(encode(frame, codec), codec), codec) == frame


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def with_type(value: Any) -> st.SearchStrategy[Any]:
    keys = st.sampled_from(sorted({*CLIENT_FRAMES, "nope", ""}))
    return st.builds(
        lambda t, v: {"type": t, **v} if isinstance(v, dict) else v, keys, st.just(value)
    )


@given(st.binary(max_size=200))
@settings(max_examples=500)
def test_garbage_bytes_only_raise_protocol_error(data: bytes) -> None:
    for codec, payload in ((MSGPACK, data), (JSON, data.decode("utf-8", "replace"))):
        try:
            decode_client(payload, codec)
        except ProtocolError as exc:
            assert exc.code in ErrorCode


@given(json_values.flatmap(with_type) | json_values)
@settings(max_examples=500)
def test_garbage_maps_only_raise_protocol_error(value: Any) -> None:
    for codec, payload in (
        (JSON, orjson.dumps(value).decode()),
        (MSGPACK, msgpack.packb(value)),
    ):
        try:
            frame = decode_client(payload, codec)
        except ProtocolError as exc:
            assert exc.message
        else:
            assert value["type"] == type(frame).TYPE


def test_wrong_encoding_is_refused() -> None:
    with pytest.raises(ProtocolError) as info:
        decode_client(b"\x80", JSON)
    assert info.value.code is ErrorCode.WRONG_ENCODING
    with pytest.raises(ProtocolError) as info:
        decode_client('{"type":"ping"}', MSGPACK)
    assert info.value.code is ErrorCode.WRONG_ENCODING


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("{", ErrorCode.MALFORMED),
        ("[1]", ErrorCode.INVALID_FRAME),
        ('{"room": "a"}', ErrorCode.INVALID_FRAME),
        ('{"type": "shout", "room": "a"}', ErrorCode.UNKNOWN_TYPE),
        ('{"type": "say", "room": "a"}', ErrorCode.INVALID_FRAME),
        ('{"type": "say", "room": "a", "text": 3}', ErrorCode.INVALID_FRAME),
        ('{"type": "say", "room": "a", "text": "x", "extra": 1}', ErrorCode.INVALID_FRAME),
        ('{"type": "typing", "room": "a", "active": 1}', ErrorCode.INVALID_FRAME),
        ('{"type": "resume", "token": "t", "last_seq": {"a": -1}}', ErrorCode.INVALID_FRAME),
        ('{"type": "resume", "token": "t", "last_seq": {"a": true}}', ErrorCode.INVALID_FRAME),
        ('{"type": "join", "room": "' + "r" * 129 + '"}', ErrorCode.TOO_LARGE),
        ("[" * 5000 + "]" * 5000, ErrorCode.MALFORMED),
    ],
)
def test_bad_frames_have_stable_codes(payload: str, code: ErrorCode) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_client(payload, JSON)
    assert info.value.code is code


def test_deep_msgpack_nesting_is_malformed() -> None:
    deep = b"\x91" * 100_000 + b"\xc0"
    with pytest.raises(ProtocolError) as info:
        decode_client(deep, MSGPACK)
    assert info.value.code in (ErrorCode.MALFORMED, ErrorCode.INVALID_FRAME)


def test_optional_fields_are_left_out() -> None:
    assert encode(Say(room="a", text="hi"), JSON) == b'{"type":"say","room":"a","text":"hi"}'
