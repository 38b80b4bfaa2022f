"""Failover with real processes: a node drained with SIGTERM or killed with SIGKILL; its
clients resume on the other node and miss no message the server had accepted."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import pytest

from clients.client import ChatClient
from protocol.messages import Ack, Message, Presence
from tests.helpers.procs import RedisProcess, chatserver


async def _sender(client: ChatClient, room: str, count: int, acked: list[str]) -> None:
    for i in range(count):
        ack = await client.say(room, f"msg-{i}")
        assert isinstance(ack, Ack)
        acked.append(f"msg-{i}")
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["drain", "kill"])
async def test_clients_resume_on_the_other_node_without_loss(
    redis_server: RedisProcess, sig: signal.Signals
) -> None:
    args = (
        "--redis-url",
        redis_server.url,
        "--presence-ttl",
        "3",
        "--drain-seconds",
        "3",
        "--rate-per-second",
        "100",
    )
    with chatserver(*args) as node_a, chatserver(*args) as node_b:
        reader = ChatClient(node_a.url, fallback_urls=(node_b.url,), max_reconnects=40)
        writer = ChatClient(node_b.url)
        await reader.connect()
        await writer.connect()
        try:
            joined = await reader.join("anxiety")
            await writer.join("anxiety")
            acked: list[str] = []
            sending = asyncio.create_task(_sender(writer, "anxiety", 60, acked))
            await asyncio.sleep(0.3)
            node_a.signal(sig)
            await asyncio.wait_for(sending, 30)
            got: list[str] = []
            seqs: list[int] = []
            async with asyncio.timeout(20):
                while len(got) < len(acked):
                    frame = await reader.recv_until(Message)
                    got.append(frame.text)
                    seqs.append(frame.seq)
            assert got == acked  # every accepted message, once, in order
            assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
            assert reader.resumes == 1
            # the writer saw no leave for the reader: the seat moved without a flicker
            while not writer._incoming.empty():
                frame = writer._incoming.get_nowait()
                assert not (
                    isinstance(frame, Presence)
                    and frame.handle == joined.handle
                    and frame.event == "leave"
                )
            if sig == signal.SIGTERM:
                assert await asyncio.to_thread(node_a.wait, 15) == 0
        finally:
            with contextlib.suppress(Exception):
                await reader.close()
            await writer.close()
