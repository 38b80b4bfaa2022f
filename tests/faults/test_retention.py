"""Issue 15, case 7: retention on the clock. History older than ``--history-seconds`` is
gone in a silent room too, and the at-risk mark reaches the session snapshot at once."""

from __future__ import annotations

import asyncio

import pytest

from tests.chatserver.test_safety_flow import CRISIS
from tests.faults.kit import (
    BASE_ARGS,
    Peer,
    admin,
    close_all,
    listener,
    nodes,
    resume,
    scan_keys,
    sigkill,
)
from tests.helpers.procs import RedisProcess, ServerProcess

HISTORY_SECONDS = 2


async def _silent_room(node: ServerProcess) -> tuple[Peer, Peer, str]:
    """A room where three messages were said, then nothing; ``away`` dropped after the
    first and will resume with ``last_seq`` 0."""
    talker, away = await Peer.open(node.url), await Peer.open(node.url)
    room = (await talker.join("anxiety"))["room"]
    await away.join(room)
    for i in range(3):
        assert (await talker.say(room, f"something personal {i}"))["type"] == "ack"
    await asyncio.sleep(0.3)
    away.drop()
    return talker, away, room


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_a_silent_rooms_history_is_not_replayed_after_history_seconds(
    backend: str, redis: RedisProcess
) -> None:
    extra = ("--history-seconds", str(HISTORY_SECONDS), "--resume-grace", "30")
    with nodes(1, *extra, redis=redis if backend == "redis" else None) as (node,):
        talker, away, room = await _silent_room(node)
        peers = [talker, away]
        try:
            await asyncio.sleep(HISTORY_SECONDS + 1.0)
            back_peer, back = await resume(node.url, away.token, {room: 0})
            peers.append(back_peer)
            assert back["type"] == "resumed", back
            await back_peer.nothing("message", within=0.5)
        finally:
            await close_all(*peers)


async def test_a_silent_rooms_history_is_gone_from_redis_after_history_seconds(
    redis: RedisProcess,
) -> None:
    """Nothing is kept beyond the bounded replay history: the stored texts themselves go,
    without waiting for the next message to trim them."""
    extra = ("--history-seconds", str(HISTORY_SECONDS))
    with nodes(1, *extra, redis=redis) as (node,):
        talker, away, room = await _silent_room(node)
        client = await admin(redis)
        try:
            history = [k for k in await scan_keys(client) if k.endswith(b":hist")]
            assert history and [await client.llen(k) for k in history] == [3]
            await asyncio.sleep(HISTORY_SECONDS + 1.0)
            left = {k.decode(): await client.llen(k) for k in history if await client.exists(k)}
            assert not any(left.values()), left
        finally:
            await client.aclose()
            await close_all(talker, away)


async def test_the_at_risk_mark_is_in_the_snapshot_at_once(redis: RedisProcess) -> None:
    """A seeker says something that signals risk, and their node dies a moment later. On
    the other node, their request for a listener is still marked at risk (first in line,
    and the listener is told)."""
    base = tuple(a for a in BASE_ARGS if a not in ("--filters", ""))
    extra = ("--filters", "crisis", "--resume-grace", "60")
    with nodes(2, *base, *extra, redis=redis) as (a, b):
        seeker = await Peer.open(a.url)
        peers = [seeker]
        try:
            room = (await seeker.join("grief"))["room"]
            await asyncio.sleep(0.3)
            assert (await seeker.say(room, CRISIS))["type"] == "ack"
            await seeker.expect("crisis", timeout=5)
            await asyncio.sleep(0.3)
            sigkill(a)
            back_peer, back = await resume(b.url, seeker.token, {room: 0})
            peers.append(back_peer)
            assert back["type"] == "resumed", back
            early = await Peer.open(b.url)
            peers.append(early)
            await early.request_support("grief")  # waiting longer, but not at risk
            await back_peer.request_support("grief")
            sam = await listener(b.url)
            peers.append(sam)
            got = await sam.expect("paired", timeout=5)
            assert got["peer"]["handle"] == back["handle"] and got.get("at_risk") is True, got
        finally:
            await close_all(*peers)
