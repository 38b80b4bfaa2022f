"""Bad input gets an error frame or a documented close code; the server keeps serving."""

from __future__ import annotations

import asyncio
import contextlib

import msgpack
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from chatserver.app import ChatServer
from clients.client import ChatClient
from protocol import JSON, MSGPACK, CloseCode, decode_server
from protocol.messages import Ack, Error, Pong
from tests.conftest import url_of


async def drain(ws: ClientConnection) -> None:
    """Read until the server closes the connection."""
    with contextlib.suppress(ConnectionClosed):
        async with asyncio.timeout(5):
            async for _ in ws:
                pass


async def test_bad_frames_get_error_frames_and_connection_survives(server: ChatServer) -> None:
    async with ChatClient(url_of(server)) as a:
        await a.send_raw("not json")
        error = await a.recv_until(Error)
        assert error.code == "malformed"
        await a.send_raw('{"type": "fly"}')
        assert (await a.recv_until(Error)).code == "unknown_type"
        await a.send_raw(b"\x81\xa4type\xa4ping")  # binary on a JSON connection
        assert (await a.recv_until(Error)).code == "wrong_encoding"
        await a.send_raw('{"type": "say", "room": "anxiety", "text": "hi"}')
        assert (await a.recv_until(Error)).code == "not_in_room"
        await a.join("anxiety")
        assert isinstance(await a.say("anxiety", "still here"), Ack)


async def test_msgpack_garbage(server: ChatServer) -> None:
    async with connect(url_of(server), subprotocols=["chat.v1.msgpack"]) as ws:  # type: ignore[list-item]
        decode_server(await ws.recv(), MSGPACK)  # welcome
        await ws.send(b"\xc1\xff\x00")
        frame = decode_server(await ws.recv(), MSGPACK)
        assert isinstance(frame, Error) and frame.code == "malformed"
        await ws.send(msgpack.packb({"type": "ping", "ref": "x"}))
        frame = decode_server(await ws.recv(), MSGPACK)
        assert isinstance(frame, Pong) and frame.ref == "x"


async def test_too_many_bad_frames_close_with_4400(server: ChatServer) -> None:
    async with connect(url_of(server)) as ws:
        await ws.recv()
        for _ in range(20):
            try:
                await ws.send("{")
            except Exception:
                break
        await drain(ws)
        assert ws.protocol.close_rcvd is not None
        assert ws.protocol.close_rcvd.code == CloseCode.TOO_MANY_ERRORS
    async with ChatClient(url_of(server)) as ok:  # others are still served
        await ok.join("anxiety")


async def test_oversize_frame_closes_with_1009(server: ChatServer) -> None:
    async with connect(url_of(server), max_size=None) as ws:
        await ws.recv()
        await ws.send("x" * (server.settings.max_frame_bytes + 10))
        await drain(ws)
        assert ws.protocol.close_rcvd is not None
        assert ws.protocol.close_rcvd.code == CloseCode.MESSAGE_TOO_BIG


async def test_unknown_subprotocol_falls_back_to_json(server: ChatServer) -> None:
    async with connect(url_of(server), subprotocols=["chat.v9.cbor"]) as ws:  # type: ignore[list-item]
        frame = decode_server(await ws.recv(), JSON)
        assert frame.TYPE == "welcome"
