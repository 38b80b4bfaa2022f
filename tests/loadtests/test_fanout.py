"""The fan-out benchmark's parts: the counting client's framing, and one worker against a real
bare relay (loopback, a throwaway Redis, under a second of traffic; no timing asserted)."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from loadtests.bench_nodes import nodes, redis_process
from loadtests.bench_scenarios import Target, endpoints
from loadtests.fanout_worker import Worker
from loadtests.phrases import marker
from loadtests.rawws import GUID, RawClient, Tally, client_frame, split_frames


def server_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    return Frame(Opcode(opcode), payload).serialize(mask=False, extensions=[])


def parse_masked(data: bytes) -> Frame:
    reader = StreamReader()
    reader.feed_data(data)
    parser = Frame.parse(reader.read_exact, mask=True)
    with pytest.raises(StopIteration) as done:
        next(parser)
    frame: Frame = done.value.value
    return frame


@given(st.binary(max_size=70_000))
def test_client_frames_parse_as_masked_websocket_frames(payload: bytes) -> None:
    frame = parse_masked(client_frame(payload))
    assert frame.opcode is Opcode.TEXT and frame.fin
    assert frame.data == payload


@given(st.lists(st.binary(max_size=300), max_size=6), st.integers(min_value=0, max_value=50))
def test_split_frames_returns_whole_frames_and_keeps_the_rest(
    payloads: list[bytes], cut: int
) -> None:
    stream = b"".join(server_frame(p) for p in payloads)
    frames, used = split_frames(bytearray(stream))
    assert [p for _, p in frames] == payloads and used == len(stream)
    head = stream[: max(0, len(stream) - cut)]
    frames, used = split_frames(bytearray(head))
    rest, _ = split_frames(bytearray(stream[used:]))
    assert [p for _, p in frames + rest] == payloads


class FakeTransport:
    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)


async def open_client(sampled: bool) -> tuple[RawClient, FakeTransport]:
    client = RawClient(Tally(), sampled=sampled)
    transport = FakeTransport()
    client.transport = transport  # type: ignore[assignment]
    accept = base64.b64encode(hashlib.sha1(client.key + GUID).digest())
    client.data_received(
        b"HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: "
        + accept
        + b"\r\n\r\n"
        + server_frame(b'{"type":"welcome"}')
    )
    await client.handshake
    assert await client.first == b'{"type":"welcome"}'
    return client, transport


def message(text: str) -> bytes:
    return orjson.dumps({"type": "message", "room": "r", "text": text, "pad": "x" * 150})


async def test_counting_client_counts_deliveries_on_both_paths() -> None:
    client, _ = await open_client(sampled=False)
    client.data_received(server_frame(message("hello")))  # one frame: the fast path
    client.data_received(server_frame(message("b")) + server_frame(message("c")))  # fast too
    two = server_frame(message("a")) + server_frame(b'{"type":"presence"}')
    client.data_received(two[:7])  # split across reads: the general path
    client.data_received(two[7:])
    client.data_received(server_frame(b'{"type":"ack","seq":1}'))
    client.data_received(server_frame(b'{"type":"error","code":"rate_limited"}'))
    tally = client.tally
    assert (tally.messages, tally.frames) == (4, 8)  # and the welcome
    assert (tally.acks, tally.errors) == (1, 1)
    assert tally.latencies_us == []


async def test_sampled_member_times_deliveries_in_the_window_and_answers_pings() -> None:
    client, transport = await open_client(sampled=True)
    client.tally.reset((0, 2**63))
    client.data_received(server_frame(message(f"{marker(1, 2, 5)} hi")))
    client.data_received(server_frame(message("no marker here")))
    client.data_received(server_frame(b"beat", opcode=0x9))
    assert client.tally.messages == 2
    assert len(client.tally.latencies_us) == 1 and client.tally.latencies_us[0] > 0
    pong = parse_masked(transport.written[-1])
    assert pong.opcode is Opcode.PONG and pong.data == b"beat"


def test_endpoints_put_every_room_on_both_nodes_and_sample_across_nodes() -> None:
    eps = endpoints(Target("bare", 3, [1, 2], [1001, 1002]), rooms=4, per_room=10, sample=10)
    assert len(eps) == 40 and all(room.startswith("t3r") for _, room, _ in eps)
    for r in range(4):
        assert {port for port, room, _ in eps if room == f"t3r{r}"} == {1001, 1002}
    sampled = [(port, room) for port, room, s in eps if s]
    assert len(sampled) == 4 and {port for port, _ in sampled} == {1001, 1002}


@pytest.fixture(scope="module")
def bare_ports() -> Iterator[list[int]]:
    with redis_process() as redis, nodes("bare", redis.url, [], "") as procs:
        yield [p.port for p in procs]


async def test_worker_delivers_every_message_to_every_member(bare_ports: list[int]) -> None:
    worker = Worker(0)
    eps = [(bare_ports[i % 2], f"room{i % 2}", i < 2) for i in range(6)]
    await worker.connect("g", eps)
    joins = await worker.join("g")
    assert len(joins["join_us"]) == 6
    result: dict[str, Any] = await worker.offer("g", 40.0, 0.1, 0.4, time.monotonic_ns())
    assert result["sent"] > 0 and result["closed"] == 0
    assert result["acks"] == result["sent"] and result["errors"] == 0
    assert result["messages"] == result["sent"] * 3  # rooms of 3, the sender included
    assert result["latencies_us"] and min(result["latencies_us"]) > 0
    filled = await worker.fill("f", [(bare_ports[i % 2], "room9", False) for i in range(4)], 0)
    assert len(filled["spans"]) == 4
    quiet = await worker.quiet("f", 0.2, 5.0)
    assert quiet["frames"] == 8  # welcome and joined each: the bare relay has no presence
    assert (await worker.close("g"))["closed"] == 6
    await worker.close("f")
