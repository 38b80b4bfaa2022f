"""Limits, each with its setting and its documented error code or close code."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from clients.client import ChatClient
from protocol import JSON, CloseCode, decode_server, encode
from protocol.messages import Ack, Error, Message, Ping
from tests.conftest import running, url_of


async def closed_with(ws: ClientConnection, timeout: float = 10) -> int | None:
    with contextlib.suppress(ConnectionClosed):
        async with asyncio.timeout(timeout):
            async for _ in ws:
                pass
    rcvd = ws.protocol.close_rcvd
    return None if rcvd is None else rcvd.code


async def test_rate_limit_errors_then_close() -> None:
    async with (
        running(rate_per_second=1, rate_burst=3) as server,
        connect(url_of(server)) as ws,
    ):
        await ws.recv()  # welcome
        for i in range(6):
            await ws.send(encode(Ping(ref=f"p{i}"), JSON).decode())
        frames = [decode_server(await ws.recv(), JSON) for _ in range(6)]
        limited = [f for f in frames if isinstance(f, Error)]
        assert len(limited) >= 2
        assert all(f.code == "rate_limited" and f.retry_after for f in limited)
        assert {f.ref for f in limited} <= {f"p{i}" for i in range(6)}
        for i in range(80):  # keep flooding: the connection is closed
            try:
                await ws.send(encode(Ping(ref=f"q{i}"), JSON).decode())
            except ConnectionClosed:
                break
        assert await closed_with(ws) == CloseCode.RATE_LIMIT


async def test_connections_per_address_are_limited() -> None:
    async with running(max_connections_per_address=2) as server:
        async with connect(url_of(server)), connect(url_of(server)):
            with pytest.raises(InvalidStatus) as info:
                async with connect(url_of(server)):
                    pass
            assert info.value.response.status_code == 429
        async with connect(url_of(server)) as again:  # freed when they closed
            assert "welcome" in str(await again.recv())


async def test_origin_allow_list() -> None:
    async with running(allowed_origins=("https://support.example",)) as server:
        with pytest.raises(InvalidStatus) as info:
            async with connect(url_of(server), origin="https://evil.example"):  # type: ignore[arg-type]
                pass
        assert info.value.response.status_code == 403
        async with connect(url_of(server), origin="https://support.example") as ws:  # type: ignore[arg-type]
            assert "welcome" in str(await ws.recv())
        async with connect(url_of(server)) as ws:  # no Origin: not a browser
            assert "welcome" in str(await ws.recv())


async def test_idle_connection_in_no_room_is_closed_but_members_stay() -> None:
    async with running(idle_timeout=0.3) as server, ChatClient(url_of(server)) as member:
        await member.join("general")
        async with connect(url_of(server)) as idle:
            await idle.recv()
            assert await closed_with(idle) == CloseCode.IDLE_TIMEOUT
        assert isinstance(await member.say("general", "still here"), Ack)


async def test_garbage_flood_does_not_hurt_others() -> None:
    async with (
        running(max_connections_per_address=500, rate_per_second=1000) as server,
        ChatClient(url_of(server)) as a,
        ChatClient(url_of(server)) as b,
    ):
        await a.join("anxiety")
        await b.join("anxiety")

        async def flood() -> None:
            for _ in range(30):
                with contextlib.suppress(ConnectionClosed, OSError, InvalidStatus):
                    async with connect(url_of(server)) as ws:
                        await ws.recv()
                        for junk in ("{", "[]", '{"type":1}', "\x00" * 50, "null") * 5:
                            await ws.send(junk)

        flooding = asyncio.create_task(flood())
        for i in range(20):
            assert isinstance(await a.say("anxiety", f"m{i}"), Ack)
        texts = [(await b.recv_until(Message)).text for _ in range(20)]
        assert texts == [f"m{i}" for i in range(20)]
        await flooding


async def test_welcome_states_the_limits_that_are_enforced() -> None:
    async with running(
        rate_per_second=1.5, rate_burst=4, room_capacity=5, max_frame_bytes=4096, resume_grace=30
    ) as server, ChatClient(url_of(server)) as client:
        assert client.welcome is not None
        limits = client.welcome.limits
        assert limits is not None
        assert (limits.rate_per_minute, limits.rate_burst) == (90, 4)
        assert (limits.room_capacity, limits.max_frame_bytes, limits.resume_grace) == (5, 4096, 30)
