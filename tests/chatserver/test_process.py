"""The real `python -m chatserver` process: start, health, signals, and what it logs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from clients.client import ChatClient
from protocol.messages import Message
from tests.helpers.procs import chatserver
from tests.helpers.procs import http_get as get

SECRET_TEXT = "my phone is 0612345678 and I live at 12 Rosemary Lane"


async def close_code_after(url: str, sig: int, server_signal: object) -> int | None:
    async with connect(url) as ws:
        await ws.recv()
        server_signal(sig)  # type: ignore[operator]
        with contextlib.suppress(ConnectionClosed):
            async with asyncio.timeout(10):
                async for _ in ws:
                    pass
        rcvd = ws.protocol.close_rcvd
        return None if rcvd is None else rcvd.code


async def test_healthz_and_readyz() -> None:
    with chatserver() as node:
        status, body = await asyncio.to_thread(get, node.http + "/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"
        status, body = await asyncio.to_thread(get, node.http + "/readyz")
        assert status == 200 and json.loads(body)["ready"] is True
        status, body = await asyncio.to_thread(get, node.http + "/metrics")
        assert status == 200 and b"chatserver_connections" in body
        status, _ = await asyncio.to_thread(get, node.http + "/nope")
        assert status == 404


async def test_sigint_closes_sockets_with_1001_and_exits_0() -> None:
    with chatserver() as node:
        code = await close_code_after(node.url, signal.SIGINT, node.signal)
        assert code == 1001
        assert await asyncio.to_thread(node.wait) == 0


async def test_sigterm_drains_with_1012_and_exits_0() -> None:
    with chatserver() as node:
        code = await close_code_after(node.url, signal.SIGTERM, node.signal)
        assert code == 1012
        assert await asyncio.to_thread(node.wait) == 0


async def test_logs_never_contain_message_text_or_addresses() -> None:
    with chatserver("--log-level", "debug") as node:
        async with ChatClient(node.url) as a, ChatClient(node.url, encoding="msgpack") as b:
            await a.join("anxiety")
            await b.join("anxiety")
            await a.say("anxiety", SECRET_TEXT)
            await b.say("anxiety", "a reply " + SECRET_TEXT[::-1])
            assert (await b.recv_until(Message)).text
            await a.send_raw("{not json " + SECRET_TEXT)
        assert node.stop() == 0
    logs = "".join(node.lines)
    assert "joined" in logs  # debug logging was on and captured
    for needle in (SECRET_TEXT, "0612345678", "Rosemary", SECRET_TEXT[::-1][:20], "127.0.0.1:"):
        assert needle not in logs
    for event in node.events():
        assert "text" not in event
