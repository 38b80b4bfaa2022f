"""The node-level pinger on real loopback connections: a client that answers pings stays,
one that never does is dropped after the timeout; the handshake's headers are emptied."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import Server, ServerConnection, serve

from chatserver.keepalive import Pinger, forget_handshake
from loadtests.rawws import RawClient, Tally


class Deaf(RawClient):
    """Completes the handshake, then never answers a ping (a phone that lost its network)."""

    def __init__(self) -> None:
        super().__init__(Tally(), sampled=False)
        self.pings = 0
        self.lost = asyncio.Event()

    def _control(self, opcode: int, payload: bytes) -> None:
        self.pings += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.first.cancel()  # no welcome from this bare server: nothing to wait for
        super().connection_lost(exc)
        self.lost.set()


Accepted = asyncio.Queue[ServerConnection]


@pytest.fixture
async def served() -> AsyncIterator[tuple[Server, Accepted]]:
    accepted: Accepted = asyncio.Queue()

    async def handler(ws: ServerConnection) -> None:
        await accepted.put(ws)
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0, ping_interval=None) as server:
        yield server, accepted


async def deaf_client(port: int) -> Deaf:
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(Deaf, "127.0.0.1", port)
    assert client.transport is not None
    client.transport.write(client.request("127.0.0.1", port, "x"))
    await client.handshake
    return client


async def test_a_silent_peer_is_dropped_and_a_live_one_kept(
    served: tuple[Server, Accepted],
) -> None:
    server, accepted = served
    port = server.sockets[0].getsockname()[1]
    async with connect(f"ws://127.0.0.1:{port}", ping_interval=None) as live:
        deaf = await deaf_client(port)
        await accepted.get()
        await accepted.get()
        pinger = Pinger(lambda: server.connections, interval=0.02, timeout=0.05)
        await pinger.round()  # both pinged
        assert pinger.pings == 2 and pinger.aborted == 0
        await asyncio.sleep(0.06)
        await pinger.round()  # the live one answered: pinged again; the deaf one is late
        assert pinger.aborted == 1 and pinger.pings == 3
        await asyncio.wait_for(deaf.lost.wait(), 1)
        assert deaf.pings == 1
        await live.send("still here")  # the live connection is open
        assert len(server.connections) == 1


async def test_handshake_headers_are_emptied_once_read(served: tuple[Server, Accepted]) -> None:
    server, accepted = served
    port = server.sockets[0].getsockname()[1]
    async with connect(f"ws://127.0.0.1:{port}", additional_headers={"Accept-Language": "de"}):
        ws = await accepted.get()
        request: Any = ws.request
        assert request.headers["Accept-Language"] == "de"
        forget_handshake(ws)
        assert not list(request.headers.raw_items()) and ws.request is request
