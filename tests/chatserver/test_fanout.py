"""The fan-out writer against real websockets connections on loopback: frames a client
parses, one write per connection per loop turn, and the order kept when websockets
writes a frame of its own (or closes) in the same turn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from chatserver.fanout import Writer, frame


@given(st.binary(max_size=70_000), st.booleans())
def test_frame_is_what_websockets_would_send(data: bytes, text: bool) -> None:
    opcode = Opcode.TEXT if text else Opcode.BINARY
    assert frame(data, text=text) == Frame(opcode, data).serialize(mask=False, extensions=[])
    reader = StreamReader()
    reader.feed_data(frame(data, text=text))
    parser = Frame.parse(reader.read_exact, mask=False)
    with pytest.raises(StopIteration) as done:
        next(parser)
    assert done.value.value.data == data


class Pair:
    def __init__(self, server: ServerConnection, client: ClientConnection) -> None:
        self.server = server
        self.client = client
        self.writes: list[bytes] = []
        transport: Any = server.transport
        original = transport.write

        def write(data: bytes) -> None:
            self.writes.append(bytes(data))
            original(data)

        transport.write = write


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    accepted: asyncio.Queue[ServerConnection] = asyncio.Queue()

    async def handler(ws: ServerConnection) -> None:
        await accepted.put(ws)
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}", compression=None) as client:
            yield Pair(await accepted.get(), client)


async def test_frames_of_one_turn_go_out_in_one_write(pair: Pair) -> None:
    writer = Writer()
    writer.send([pair.server], b'{"n":1}', text=True)
    writer.send([pair.server], b'{"n":2}', text=True)
    writer.send([pair.server], b"\x81\x01", text=False)
    assert pair.writes == []  # nothing until the end of the turn
    assert [await pair.client.recv() for _ in range(3)] == ['{"n":1}', '{"n":2}', b"\x81\x01"]
    assert len(pair.writes) == 1 and writer.writes == 1 and writer.frames == 3


async def test_a_frame_websockets_sends_itself_keeps_its_place(pair: Pair) -> None:
    writer = Writer()
    writer.send([pair.server], b"first", text=True)
    await pair.server.send("second")  # drains what the writer queued, then its own
    writer.send([pair.server], b"third", text=True)
    assert [await pair.client.recv() for _ in range(3)] == ["first", "second", "third"]


async def test_a_close_in_the_same_turn_comes_after_the_frames(pair: Pair) -> None:
    writer = Writer()
    writer.send([pair.server], b"goodbye", text=True)
    closing = asyncio.ensure_future(pair.server.close(4000, "done"))
    assert await pair.client.recv() == "goodbye"
    await closing
    assert pair.client.close_code == 4000
    writer.send([pair.server], b"too late", text=True)  # closed: skipped, as broadcast()
    await asyncio.sleep(0)
    assert writer.frames == 1
