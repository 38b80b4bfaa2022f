"""Issue 15, case 3: one live socket per session, on any node (SPEC section 5: a session
resumed on another socket closes the old one with 1000).

A takeover closes the old socket within a second; two resumes of one token yield one
winner; a socket that is no longer its session's can never speak for it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

import pytest

from tests.faults.kit import Peer, close_all, nodes, resume
from tests.helpers.procs import RedisProcess, ServerProcess

TRIALS = 10
#: The snapshot is saved just after ``joined`` goes out; these tests are about the
#: takeover, not that (small) window.
SETTLE = 0.3


@contextlib.contextmanager
def two_nodes(backend: str, redis: RedisProcess) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Redis: two nodes. Memory: one node, named twice (the takeover is local)."""
    if backend == "redis":
        with nodes(2, redis=redis) as (a, b):
            yield a, b
    else:
        with nodes(1) as (a,):
            yield a, a


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_takeover_closes_the_old_socket_with_1000_within_a_second(
    backend: str, redis: RedisProcess
) -> None:
    with two_nodes(backend, redis) as (a, b):
        old = await Peer.open(a.url)
        peers = [old]
        try:
            await old.join("anxiety")
            await asyncio.sleep(SETTLE)
            new, back = await resume(b.url, old.token, {})
            peers.append(new)
            assert back["type"] == "resumed", back
            started = time.monotonic()
            code = await old.wait_closed(timeout=3)
            assert code == 1000
            assert old.closed_at is not None and old.closed_at - started < 1.0
        finally:
            await close_all(*peers)


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_the_old_socket_can_never_speak_for_the_session(
    backend: str, redis: RedisProcess
) -> None:
    """Whatever the old socket sends after the takeover, the room never sees it."""
    with two_nodes(backend, redis) as (a, b):
        old = await Peer.open(a.url)
        watcher = await Peer.open(b.url)
        peers = [old, watcher]
        try:
            joined = await old.join("anxiety")
            await watcher.join(joined["room"])
            await asyncio.sleep(SETTLE)
            new, back = await resume(b.url, old.token, {})
            peers.append(new)
            assert back["type"] == "resumed", back
            with contextlib.suppress(Exception):
                await old.send({"type": "say", "room": joined["room"], "text": "ghost words"})
            await watcher.nothing("message", within=1.5, text="ghost words")
            ack = await new.say(joined["room"], "it's me, on my new connection")
            assert ack["type"] == "ack", ack
            got = await watcher.expect("message", room=joined["room"], timeout=3)
            assert got["text"] == "it's me, on my new connection"
        finally:
            await close_all(*peers)


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_two_simultaneous_resumes_have_exactly_one_winner(
    backend: str, redis: RedisProcess
) -> None:
    """The same token presented twice at once (two nodes, or one): one ``resumed``, one
    ``resume_failed``, in every trial."""
    with two_nodes(backend, redis) as (a, b):
        outcomes = []
        for _ in range(TRIALS):
            person = await Peer.open(a.url)
            peers = [person]
            try:
                await person.join("grief")
                person.drop()
                await asyncio.sleep(0.05)
                one, two = await asyncio.gather(Peer.open(a.url), Peer.open(b.url))
                peers += [one, two]
                frame = {"type": "resume", "token": person.token, "last_seq": {}}
                replies = await asyncio.gather(one.request(frame), two.request(frame))
                outcomes.append(sorted(str(r.get("code", r["type"])) for r in replies))
            finally:
                await close_all(*peers)
        assert outcomes == [["resume_failed", "resumed"]] * TRIALS
