"""Issue 15, case 2: Redis restarts empty (no persistence) under two live nodes.

The nodes hold what matters (waiting seekers in order, live pairs, seats, session
snapshots) and write it back once Redis answers again, as they already do for rooms.
Nobody waits for ever and nobody's chat silently ends."""

from __future__ import annotations

import asyncio

from tests.faults.kit import Peer, close_all, listener, nodes, paired, restart, resume, sigkill
from tests.helpers.procs import RedisProcess

#: After ``restored``: time for the nodes to write their state back.
REPAIR = 3.0


async def _redis_restarted(redis: RedisProcess, *watchers: Peer) -> None:
    """Restart Redis empty; every watcher is told ``degraded`` then ``restored``."""
    await asyncio.to_thread(restart, redis)
    for peer in watchers:
        await peer.expect("notice", code="degraded", timeout=10)
        await peer.expect("notice", code="restored", timeout=15)


async def test_waiting_seekers_keep_their_place_and_get_a_listener(
    redis: RedisProcess,
) -> None:
    with nodes(2, redis=redis) as (a, b):
        first = await Peer.open(a.url)
        second = await Peer.open(b.url)
        peers = [first, second]
        try:
            assert (await first.request_support("grief"))["position"] == 1
            assert (await second.request_support("grief"))["position"] == 2
            await _redis_restarted(redis, first, second)
            await asyncio.sleep(REPAIR)
            sam = await listener(b.url)
            peers.append(sam)
            got = await sam.expect("paired", timeout=5)
            assert got["peer"]["handle"] == first.handle  # the order survived
            await first.expect("paired", timeout=3)
            left = await second.request({"type": "cancel_support"})
            assert left["type"] == "queue_left" and left["reason"] == "cancelled", left
        finally:
            await close_all(*peers)


async def test_a_live_chat_goes_on_and_ends_properly(redis: RedisProcess) -> None:
    with nodes(2, redis=redis) as (a, b):
        seeker = await Peer.open(a.url)
        sam = await listener(b.url)
        peers = [seeker, sam]
        try:
            await seeker.request_support("grief")
            room = await paired(seeker, sam)
            await _redis_restarted(redis, seeker, sam)
            await asyncio.sleep(REPAIR)
            ack = await seeker.say(room, "still there?")
            assert ack["type"] == "ack", ack
            assert (await sam.expect("message", room=room))["text"] == "still there?"
            ended = await sam.request({"type": "end_chat", "room": room})
            assert ended["type"] == "chat_ended", ended
            told = await seeker.expect("chat_ended", room=room, timeout=3)
            assert told["reason"] == "ended_by_listener"
        finally:
            await close_all(*peers)


async def test_a_session_can_still_be_resumed_after_redis_restarted(
    redis: RedisProcess,
) -> None:
    """The snapshot written at join is lost with Redis; its node dies just after. The
    person must still resume on the other node (a grace long enough that the periodic
    refresh of snapshots does not happen to cover the gap)."""
    with nodes(2, "--resume-grace", "30", redis=redis) as (a, b):
        person = await Peer.open(a.url)
        other = await Peer.open(b.url)
        peers = [person, other]
        try:
            joined = await person.join("anxiety")
            await other.join(joined["room"])
            await _redis_restarted(redis, person)
            await asyncio.sleep(REPAIR)
            sigkill(a)
            for _ in range(3):  # as the SPEC says: after ``unavailable``, retry later
                back_peer, back = await resume(b.url, person.token, {joined["room"]: joined["seq"]})
                peers.append(back_peer)
                if back.get("code") != "unavailable":
                    break
                await asyncio.sleep(back["retry_after"] / 1000)
            assert back["type"] == "resumed", back
            assert joined["room"] in back["rooms"], back
        finally:
            await close_all(*peers)
