"""A member who stops reading must not slow its room: the other members' delivery p99
stays within twice the p99 of the same run without the slow member (plus a small absolute
allowance, since both runs share a busy machine)."""

from __future__ import annotations

import asyncio
import time

from websockets.asyncio.client import ClientConnection, connect

from clients.client import ChatClient
from protocol.messages import Message
from tests.conftest import running, url_of

MEMBERS = 6
MESSAGES = 200
TEXT = "x" * 2000
ALLOWANCE = 0.010  # seconds


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def busy_room(with_slow: bool) -> float:
    async with running(rate_per_second=100_000, rate_burst=100_000,
                       send_queue_bytes=256 * 1024) as server:
        url = url_of(server)
        members = [ChatClient(url) for _ in range(MEMBERS)]
        slow: ClientConnection | None = None
        for m in members:
            await m.connect()
            await m.join("general")
        if with_slow:  # joins, then never reads again
            slow = await connect(url, max_queue=1)
            await slow.recv()
            await slow.send('{"type":"join","room":"general","ref":"j"}')
        sent: dict[str, float] = {}
        latencies: list[float] = []

        async def read(member: ChatClient) -> None:
            got = 0
            while got < MESSAGES:
                frame = await member.recv()
                if isinstance(frame, Message) and frame.text.startswith("t"):
                    latencies.append(time.perf_counter() - sent[frame.text.split(":")[0]])
                    got += 1

        readers = [asyncio.create_task(read(m)) for m in members[1:]]
        for i in range(MESSAGES):
            key = f"t{i}"
            sent[key] = time.perf_counter()
            await members[0].say("general", f"{key}:{TEXT}")
        async with asyncio.timeout(60):
            await asyncio.gather(*readers)
        if slow is not None:
            slow.transport.abort()
        for m in members:
            await m.close()
        return p99(latencies)


async def test_a_slow_member_does_not_slow_the_room() -> None:
    baseline = await busy_room(with_slow=False)
    with_slow = await busy_room(with_slow=True)
    print(f"p99 without {baseline * 1000:.1f} ms, with a slow member {with_slow * 1000:.1f} ms")
    assert with_slow <= 2 * baseline + ALLOWANCE, (baseline, with_slow)
