"""Real `python -m chatserver` nodes relaying rooms through real Redis processes.

The core suite runs on standalone Redis and on a 3-master cluster; the fault tests (a node
killed with SIGKILL, Redis stopped and restarted under traffic) run on standalone Redis
started for the test. Every wait is bounded; external processes are polled with deadlines.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator

import pytest

from clients.client import ChatClient, ChatError
from protocol.messages import Message, Notice, Presence
from tests.helpers.procs import RedisClusterProcess, RedisProcess, ServerProcess, chatserver

ROOM = "anxiety"


@pytest.fixture(params=["redis", "cluster"])
def redis_url(request: pytest.FixtureRequest) -> str:
    if request.param == "redis":
        server: RedisProcess = request.getfixturevalue("redis_server")
        return server.url
    cluster: RedisClusterProcess = request.getfixturevalue("redis_cluster")
    return cluster.url


@contextlib.contextmanager
def two_nodes(url: str, *args: str) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    with (
        chatserver("--redis-url", url, "--node-id", "node-a", *args) as a,
        chatserver("--redis-url", url, "--node-id", "node-b", *args) as b,
    ):
        yield a, b


@contextlib.asynccontextmanager
async def clients(*urls: str, auto_resume: bool = True) -> AsyncIterator[list[ChatClient]]:
    async with contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(ChatClient(u, auto_resume=auto_resume)) for u in urls
        ]


async def messages(client: ChatClient, count: int, timeout: float = 10.0) -> list[Message]:
    out: list[Message] = []
    async with asyncio.timeout(timeout):
        while len(out) < count:
            out.append(await client.recv_until(Message))
    return out


async def notice_code(client: ChatClient, code: str, timeout: float = 15.0) -> None:
    """Skip frames until a notice with ``code`` (earlier notices may still be queued)."""
    async with asyncio.timeout(timeout):
        while (await client.recv_until(Notice)).code != code:
            pass


def readyz(node: ServerProcess) -> int:
    try:
        with urllib.request.urlopen(node.http + "/readyz", timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


async def test_members_on_two_nodes_see_one_order(redis_url: str) -> None:
    with two_nodes(redis_url) as (a, b):
        async with clients(a.url, b.url) as (alice, bob):
            await alice.join(ROOM)
            joined = await bob.join(ROOM)
            assert {m.handle for m in joined.members} >= {joined.handle}
            assert len(joined.members) == 2  # alice, seen from the other node
            await asyncio.gather(
                *(alice.say(ROOM, f"a{i}") for i in range(10)),
                *(bob.say(ROOM, f"b{i}") for i in range(10)),
            )
            seen_a = await messages(alice, 20)
            seen_b = await messages(bob, 20)
            assert [(m.seq, m.text) for m in seen_a] == [(m.seq, m.text) for m in seen_b]
            seqs = [m.seq for m in seen_a]
            assert seqs == list(range(seqs[0], seqs[0] + 20))


async def test_a_killed_node_leaves_presence_within_the_bound(redis_server: RedisProcess) -> None:
    """A killed node's members stay for the resume grace (their people may resume on
    another node), then leave: within the presence TTL after the grace."""
    ttl, grace = 1.0, 1.0
    args = ("--presence-ttl", str(ttl), "--resume-grace", str(grace))
    with two_nodes(redis_server.url, *args) as (a, b):
        async with clients(a.url, auto_resume=False) as (alice,), clients(b.url) as (bob,):
            handle = (await alice.join(ROOM)).handle
            await bob.join(ROOM)
            a.proc.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
            started = time.monotonic()
            async with asyncio.timeout(ttl * 3 + grace):
                while True:
                    frame = await bob.recv_until(Presence)
                    if frame.event == "leave" and frame.handle == handle:
                        break
            assert grace <= time.monotonic() - started <= ttl * 1.5 + grace
            async with clients(b.url) as (carol,):
                joined = await carol.join(ROOM)
                assert handle not in {m.handle for m in joined.members}


async def test_redis_restart_under_traffic() -> None:
    redis = RedisProcess().start()
    try:
        with two_nodes(redis.url) as (a, b):
            async with clients(a.url, b.url) as (alice, bob):
                await alice.join(ROOM)
                await bob.join(ROOM)
                await alice.say(ROOM, "before")
                assert (await messages(bob, 1))[0].text == "before"

                await asyncio.to_thread(redis.stop)
                notice = await alice.recv_until(Notice)
                assert notice.code == "degraded"
                with pytest.raises(ChatError) as refused:
                    await alice.say(ROOM, "during")
                assert refused.value.code == "unavailable"
                assert refused.value.frame.retry_after
                assert await asyncio.to_thread(readyz, a) == 503

                await asyncio.to_thread(redis.start)  # same port
                await notice_code(alice, "restored")
                await notice_code(bob, "restored")
                assert await asyncio.to_thread(readyz, b) == 200
                ack = await alice.say(ROOM, "after")
                got = await messages(bob, 1)
                assert got[0].text == "after" and got[0].seq == getattr(ack, "seq", None)
                assert got[0].seq == 2  # the sequence went on where it was
                await bob.say(ROOM, "reply")
                assert [m.text for m in await messages(alice, 2)] == ["after", "reply"]
            for node in (a, b):
                assert node.proc is not None and node.proc.poll() is None  # no crash
                assert not [e for e in node.events() if e.get("level") == "error"]
                node.stop()
                text = json.dumps(node.events())
                assert "before" not in text and "after" not in text
    finally:
        redis.cleanup()
