"""The connection handler fuzzed with hypothesis: malformed frames, wrong types, huge and
deeply nested values, invalid UTF-8, unknown types and out-of-order frames (say before
join, join twice, resume with junk). Every input must end in server frames that decode,
or a close with a documented code, never an internal error; the server keeps serving."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import msgpack
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from chatserver.app import ChatServer
from chatserver.config import Settings
from protocol import JSON, MSGPACK, CloseCode, Codec, decode_server, encode
from protocol.messages import Error, Ping, Pong

DOCUMENTED_CLOSES = {1000, 1001, 1007, 1009, *(int(c) for c in CloseCode if c >= 4000)}
TRIED = {"inputs": 0, "sequences": 0}


@pytest.fixture(scope="module")
def live_server() -> Iterator[ChatServer]:
    """A server on its own thread and loop, so sync hypothesis tests can talk to it."""
    settings_ = Settings(
        port=0,
        filters=("pii", "crisis", "trauma_dump"),
        rate_per_second=10_000,
        rate_burst=10_000,
        max_connections_per_address=10_000,
    )
    server = ChatServer(settings_)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.run(),), daemon=True)
    thread.start()
    for _ in range(200):
        if server.port is not None:
            break
        threading.Event().wait(0.05)
    assert server.port is not None
    yield server
    loop.call_soon_threadsafe(server.stop)
    thread.join(15)
    loop.close()
    print(f"\nfuzz: {TRIED['inputs']} inputs in {TRIED['sequences']} sequences")


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats()
    | st.text(max_size=50)
    | st.binary(max_size=20)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=25,
)
types = st.sampled_from(
    [
        "join",
        "leave",
        "say",
        "typing",
        "ping",
        "resume",
        "auth",
        "request_support",
        "cancel_support",
        "listen",
        "accept",
        "end_chat",
        "handover",
        "consent",
        "welcome",
        "x" * 200,
        "",
    ]
)
rooms = st.sampled_from(["anxiety", "grief", "anxiety-2", "p-000000000000", "nope", "", "ANX"])
frame_maps = st.one_of(
    st.fixed_dictionaries(
        {"type": types},
        optional={
            "room": rooms | values,
            "text": values,
            "ref": values,
            "active": values,
            "token": values,
            "topic": rooms,
            "capacity": values,
            "last_seq": values,
            "cw": values,
        },
    ),
    st.fixed_dictionaries(
        {"type": st.just("say"), "room": rooms, "text": st.text(min_size=0, max_size=5000)}
    ),
    st.fixed_dictionaries({"type": st.just("join"), "room": rooms, "ref": st.text(max_size=5)}),
)
deep = st.integers(1, 3000).map(lambda n: "[" * n + "]" * n)


def as_wire(value: Any, codec: Codec) -> bytes | str | None:
    try:
        if codec is JSON:
            return orjson.dumps(value).decode()
        packed: bytes = msgpack.packb(value)
        return packed
    except (TypeError, ValueError, OverflowError):
        return None


inputs = st.one_of(
    frame_maps.map(lambda m: ("map", m)),
    values.map(lambda v: ("map", v)),
    st.binary(max_size=300).map(lambda b: ("bytes", b)),
    st.text(max_size=300).map(lambda t: ("text", t)),
    deep.map(lambda t: ("text", t)),
    st.just(("bytes", b"\xff\xfe\xfd")),  # invalid UTF-8 (as text it is a protocol error)
)


def drain(ws: ClientConnection, codec: Codec, until_pong: str) -> int | None:
    """Read until our pong (None) or the close (its code). Every frame must decode."""
    while True:
        try:
            data = ws.recv(timeout=10)
        except ConnectionClosed:
            rcvd = ws.protocol.close_rcvd
            return 1006 if rcvd is None else rcvd.code
        frame = decode_server(data, codec)
        if isinstance(frame, Error):
            assert frame.code != "internal", frame
        if isinstance(frame, Pong) and frame.ref == until_pong:
            return None


@pytest.mark.parametrize("codec", [JSON, MSGPACK], ids=["json", "msgpack"])
@given(sequence=st.lists(inputs, min_size=1, max_size=12))
@settings(max_examples=120)
def test_handler_survives_anything(
    live_server: ChatServer, codec: Codec, sequence: list[tuple[str, Any]]
) -> None:
    url = f"ws://127.0.0.1:{live_server.port}"
    with connect(url, subprotocols=[codec.subprotocol], max_size=2**20) as ws:  # type: ignore[list-item]
        decode_server(ws.recv(timeout=10), codec)  # welcome
        TRIED["sequences"] += 1
        for kind, value in sequence:
            TRIED["inputs"] += 1
            payload: bytes | str | None
            if kind == "map":
                payload = as_wire(value, codec)
            elif kind == "bytes":
                payload = value if codec is MSGPACK else value.decode("utf-8", "replace")
            else:
                payload = value if codec is JSON else value.encode()
            if payload is None:
                continue
            try:
                ws.send(payload)
            except ConnectionClosed:
                break
        with contextlib.suppress(ConnectionClosed):
            ws.send(
                encode(Ping(ref="end"), codec)
                if not codec.text
                else encode(Ping(ref="end"), codec).decode()
            )
        code = drain(ws, codec, "end")
        assert code is None or code in DOCUMENTED_CLOSES, code
    assert live_server.metrics.errors.labels("internal")._value.get() == 0


def test_server_still_serves_after_fuzzing(live_server: ChatServer) -> None:
    url = f"ws://127.0.0.1:{live_server.port}"
    with connect(url) as a, connect(url) as b:
        for ws in (a, b):
            decode_server(ws.recv(timeout=10), JSON)
            ws.send('{"type":"join","room":"general","ref":"j"}')
            assert '"joined"' in str(ws.recv(timeout=10))
        a.send('{"type":"say","room":"general","text":"still here","ref":"s"}')
        seen: list[str] = []
        while "still here" not in "".join(seen):
            seen.append(str(b.recv(timeout=10)))
