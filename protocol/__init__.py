"""The chatserver wire protocol, with no I/O (sans-I/O).

Frames are plain dataclasses (:mod:`protocol.messages`); :mod:`protocol.codec` turns them into
bytes and back in JSON or MessagePack; :mod:`protocol.errors` holds the one error type and the
close codes. Nothing here imports asyncio, websockets or redis (a test checks it), so any
transport, test or other-language port can rely on it. The contract is ``SPEC.md``.
"""

from protocol.codec import (
    CODECS,
    JSON,
    JSON_SUBPROTOCOL,
    MSGPACK,
    MSGPACK_SUBPROTOCOL,
    SUBPROTOCOLS,
    Codec,
    decode_client,
    decode_server,
    encode,
    frame_from_dict,
    frame_to_dict,
)
from protocol.errors import CloseCode, ErrorCode, ProtocolError
from protocol.messages import CLIENT_FRAMES, SERVER_FRAMES, ClientFrame, ServerFrame

__all__ = [
    "CLIENT_FRAMES",
    "CODECS",
    "JSON",
    "JSON_SUBPROTOCOL",
    "MSGPACK",
    "MSGPACK_SUBPROTOCOL",
    "SERVER_FRAMES",
    "SUBPROTOCOLS",
    "ClientFrame",
    "CloseCode",
    "Codec",
    "ErrorCode",
    "ProtocolError",
    "ServerFrame",
    "decode_client",
    "decode_server",
    "encode",
    "frame_from_dict",
    "frame_to_dict",
]
