"""Encode frames to bytes and decode bytes to frames, in JSON or MessagePack.

The two encodings carry the same maps; a connection picks one by websocket subprotocol
(``chat.v1.json`` -> text frames, ``chat.v1.msgpack`` -> binary frames). Validation is
derived once, at import, from the dataclass annotations in :mod:`protocol.messages`, and is
strict: unknown keys, wrong types, out-of-range integers and oversize strings are refused.

Decoding arbitrary input either returns a frame or raises
:class:`~protocol.errors.ProtocolError`; nothing else escapes (see the hypothesis tests).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol, TypeVar

import msgpack
import orjson

from protocol.errors import ErrorCode, ProtocolError
from protocol.messages import (
    CLIENT_FRAMES,
    SERVER_FRAMES,
    ClientFrame,
    Limits,
    Member,
    QueueInfo,
    ReportedMessage,
    Resource,
    ServerFrame,
)

JSON_SUBPROTOCOL: Final = "chat.v1.json"
MSGPACK_SUBPROTOCOL: Final = "chat.v1.msgpack"
SUBPROTOCOLS: Final = (JSON_SUBPROTOCOL, MSGPACK_SUBPROTOCOL)

#: Longest string accepted in any field but the free-text ones (``text``, ``message``).
MAX_SHORT_STRING: Final = 128
#: Free-text fields are bounded by the server's ``max_text`` setting; this is a hard ceiling.
MAX_LONG_STRING: Final = 65_536
LONG_STRING_FIELDS: Final = frozenset({"text", "message", "note"})
#: Signed tokens carry their claims, so they get more room than other short strings.
MAX_TOKEN: Final = 2048
#: Integers stay exact in JavaScript: 0 <= n <= 2**53 - 1.
MAX_INT: Final = 2**53 - 1
MAX_MAP_ENTRIES: Final = 256
MAX_LIST_ITEMS: Final = 1024

Validator = Callable[[Any, str], Any]
F = TypeVar("F", ClientFrame, ServerFrame)


def _invalid(field: str, expected: str) -> ProtocolError:
    return ProtocolError(ErrorCode.INVALID_FRAME, f"Field '{field}' must be {expected}.")


def _str_validator(limit: int) -> Validator:
    def check(value: Any, field: str) -> str:
        if type(value) is not str:
            raise _invalid(field, "a string")
        if len(value) > limit:
            raise ProtocolError(
                ErrorCode.TOO_LARGE, f"Field '{field}' is longer than {limit} characters."
            )
        return value

    return check


def _int(value: Any, field: str) -> int:
    if type(value) is not int or not 0 <= value <= MAX_INT:
        raise _invalid(field, f"a whole number from 0 to {MAX_INT}")
    return value


def _bool(value: Any, field: str) -> bool:
    if type(value) is not bool:
        raise _invalid(field, "true or false")
    return value


def _optional(inner: Validator) -> Validator:
    def check(value: Any, field: str) -> Any:
        return None if value is None else inner(value, field)

    return check


def _tuple_of(inner: Validator) -> Validator:
    def check(value: Any, field: str) -> tuple[Any, ...]:
        if not isinstance(value, list | tuple) or len(value) > MAX_LIST_ITEMS:
            raise _invalid(field, f"a list of at most {MAX_LIST_ITEMS} items")
        return tuple(inner(item, field) for item in value)

    return check


def _dict_of(key: Validator, val: Validator) -> Validator:
    def check(value: Any, field: str) -> dict[Any, Any]:
        if not isinstance(value, dict) or len(value) > MAX_MAP_ENTRIES:
            raise _invalid(field, f"a map of at most {MAX_MAP_ENTRIES} entries")
        return {key(k, field): val(v, field) for k, v in value.items()}

    return check


def _dataclass_validator(cls: type[Any]) -> Validator:
    fields = _field_specs(cls)

    def check(value: Any, field: str) -> Any:
        if not isinstance(value, dict):
            raise _invalid(field, "a map")
        return cls(**_check_fields(value, fields, skip=None))

    return check


def _validator_for(hint: Any, name: str) -> Validator:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is str:
        if name in LONG_STRING_FIELDS:
            return _str_validator(MAX_LONG_STRING)
        return _str_validator(MAX_TOKEN if name == "token" else MAX_SHORT_STRING)
    if hint is int:
        return _int
    if hint is bool:
        return _bool
    if origin in (types.UnionType, typing.Union) and type(None) in args:
        (inner,) = (a for a in args if a is not type(None))
        return _optional(_validator_for(inner, name))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return _tuple_of(_validator_for(args[0], name))
    if origin is dict:
        return _dict_of(_validator_for(args[0], "key"), _validator_for(args[1], name))
    if dataclasses.is_dataclass(hint):
        return _dataclass_validator(typing.cast(type[Any], hint))
    raise TypeError(f"unsupported field type {hint!r} for {name}")  # a bug in messages.py


FieldSpec = tuple[str, Validator, bool]  # name, validator, required


def _field_specs(cls: type[Any]) -> tuple[FieldSpec, ...]:
    hints = typing.get_type_hints(cls)
    specs: list[FieldSpec] = []
    for f in dataclasses.fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        specs.append((f.name, _validator_for(hints[f.name], f.name), required))
    return tuple(specs)


def _check_fields(
    data: Mapping[Any, Any], specs: tuple[FieldSpec, ...], skip: str | None
) -> dict[str, Any]:
    known = {name for name, _, _ in specs}
    for key in data:
        if key != skip and key not in known:
            raise ProtocolError(ErrorCode.INVALID_FRAME, f"Unknown field '{key}'.")
    out: dict[str, Any] = {}
    for name, check, required in specs:
        if name in data:
            out[name] = check(data[name], name)
        elif required:
            raise ProtocolError(ErrorCode.INVALID_FRAME, f"Field '{name}' is missing.")
    return out


_NESTED: Final = frozenset({Limits, Member, QueueInfo, Resource, ReportedMessage})
_SPECS: dict[type[Any], tuple[FieldSpec, ...]] = {
    cls: _field_specs(cls) for cls in (*CLIENT_FRAMES.values(), *SERVER_FRAMES.values(), *_NESTED)
}
_NAMES: dict[type[Any], tuple[str, ...]] = {
    cls: tuple(name for name, _, _ in specs) for cls, specs in _SPECS.items()
}


def frame_from_dict(data: Any, registry: Mapping[str, type[F]]) -> F:
    """Validate a decoded map against ``registry`` (client or server frames)."""
    if not isinstance(data, dict):
        raise ProtocolError(ErrorCode.INVALID_FRAME, "A frame must be a map with a 'type'.")
    kind = data.get("type")
    if type(kind) is not str:
        raise ProtocolError(ErrorCode.INVALID_FRAME, "A frame needs a 'type' string.")
    try:
        cls = registry.get(kind)
        if cls is None:
            raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"Unknown frame type '{kind[:40]}'.")
        return cls(**_check_fields(data, _SPECS[cls], skip="type"))
    except ProtocolError as exc:
        ref = data.get("ref")
        if type(ref) is str and len(ref) <= MAX_SHORT_STRING:
            exc.ref = ref  # so the error frame can answer the request it refuses
        raise


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if type(value) in _NESTED:
        return {n: _plain(v) for n in _NAMES[type(value)] if (v := getattr(value, n)) is not None}
    return value


def frame_to_dict(frame: ClientFrame | ServerFrame) -> dict[str, Any]:
    """The wire map of a frame: ``type`` first, then fields in order, ``None`` left out."""
    out: dict[str, Any] = {"type": frame.TYPE}
    for name in _NAMES[type(frame)]:
        value = getattr(frame, name)
        if value is not None:
            out[name] = _plain(value)
    return out


# --------------------------------------------------------------------------- codecs


class Codec(Protocol):
    """One wire encoding. ``text`` says whether frames travel as websocket text frames."""

    subprotocol: str
    text: bool

    def dumps(self, data: Mapping[str, Any]) -> bytes: ...

    def loads(self, data: bytes | str) -> Any: ...


class JsonCodec:
    subprotocol = JSON_SUBPROTOCOL
    text = True

    def dumps(self, data: Mapping[str, Any]) -> bytes:
        return orjson.dumps(data)

    def loads(self, data: bytes | str) -> Any:
        if not isinstance(data, str):
            raise ProtocolError(
                ErrorCode.WRONG_ENCODING, "This connection speaks JSON: send text frames."
            )
        try:
            return orjson.loads(data)
        except (orjson.JSONDecodeError, UnicodeError, RecursionError) as exc:
            raise ProtocolError(ErrorCode.MALFORMED, "That frame is not valid JSON.") from exc


class MsgpackCodec:
    subprotocol = MSGPACK_SUBPROTOCOL
    text = False

    def dumps(self, data: Mapping[str, Any]) -> bytes:
        return typing.cast(bytes, msgpack.packb(data))

    def loads(self, data: bytes | str) -> Any:
        if isinstance(data, str):
            raise ProtocolError(
                ErrorCode.WRONG_ENCODING, "This connection speaks MessagePack: send binary frames."
            )
        try:
            return msgpack.unpackb(data, raw=False)
        except Exception as exc:  # msgpack raises many unrelated types on garbage
            raise ProtocolError(
                ErrorCode.MALFORMED, "That frame is not valid MessagePack."
            ) from exc


JSON: Final = JsonCodec()
MSGPACK: Final = MsgpackCodec()
CODECS: Final[dict[str, Codec]] = {JSON_SUBPROTOCOL: JSON, MSGPACK_SUBPROTOCOL: MSGPACK}


def encode(frame: ClientFrame | ServerFrame, codec: Codec) -> bytes:
    return codec.dumps(frame_to_dict(frame))


def decode_client(data: bytes | str, codec: Codec) -> ClientFrame:
    """Bytes from a client -> a client frame, or :class:`ProtocolError`."""
    return frame_from_dict(codec.loads(data), CLIENT_FRAMES)


def decode_server(data: bytes | str, codec: Codec) -> ServerFrame:
    """Bytes from a server -> a server frame, or :class:`ProtocolError`."""
    return frame_from_dict(codec.loads(data), SERVER_FRAMES)
