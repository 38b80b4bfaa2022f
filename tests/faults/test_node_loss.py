"""Issue 15, case 1: a node dies (SIGKILL) with one-to-one chats waiting or under way.

Two nodes share one redis-server; the node holding the chat is killed by PID. What a
person expects: the chat survives a resume on the other node, a peer who never comes back
is announced kindly, nothing of a dead node blocks a listener's seat, and nothing it wrote
stays in Redis for ever."""

from __future__ import annotations

import asyncio
import time

from tests.faults.kit import (
    EVICTED,
    GRACE,
    PRESENCE_TTL,
    Peer,
    admin,
    close_all,
    keys_without_ttl,
    listener,
    nodes,
    paired,
    resume,
    scan_keys,
    sigkill,
)
from tests.helpers.procs import RedisProcess

#: Longest time a dead node's leftovers may take to be noticed and handled by the living.
RECLAIM = PRESENCE_TTL + GRACE + 1.5


async def test_private_chat_survives_its_node_and_missed_messages_follow(
    redis: RedisProcess,
) -> None:
    """Seeker and listener paired on A; A is killed; both resume on B within the grace and
    find the chat; what one said while the other was still away reaches them."""
    with nodes(2, redis=redis) as (a, b):
        seeker = await Peer.open(a.url)
        sam = await listener(a.url)
        peers: list[Peer] = [seeker, sam]
        try:
            await seeker.request_support("grief")
            room = await paired(seeker, sam)
            first = await seeker.say(room, "are you there?")
            assert first["type"] == "ack"
            await sam.expect("message", room=room, seq=first["seq"])
            sigkill(a)
            await asyncio.sleep(EVICTED)  # late, but within the grace
            s2, back = await resume(b.url, seeker.token, {room: first["seq"]})
            peers.append(s2)
            assert back["type"] == "resumed", back
            assert room in back["rooms"], back  # the chat is still there
            missed = await s2.say(room, "my phone died, sorry")
            assert missed["type"] == "ack", missed
            l2, back = await resume(b.url, sam.token, {room: first["seq"]})
            peers.append(l2)
            assert back["type"] == "resumed" and room in back["rooms"], back
            got = await l2.expect("message", room=room, seq=missed["seq"])
            assert got["text"] == "my phone died, sorry"
            reply = await l2.say(room, "I'm still here")
            assert reply["type"] == "ack", reply
            assert (await s2.expect("message", room=room, seq=reply["seq"]))["role"] == "listener"
            assert not [f for f in s2.seen + l2.seen if f["type"] == "chat_ended"]
        finally:
            await close_all(*peers)


async def test_listener_who_never_returns_is_announced_and_seeker_requeued_first(
    redis: RedisProcess,
) -> None:
    """A dies; only the seeker comes back (on B). After the grace the seeker is told kindly
    (``chat_ended`` with ``listener_left``) and is first in line again."""
    with nodes(2, redis=redis) as (a, b):
        seeker = await Peer.open(a.url)
        sam = await listener(a.url)
        other = await Peer.open(b.url)
        peers: list[Peer] = [seeker, sam, other]
        try:
            await seeker.request_support("grief")
            room = await paired(seeker, sam)
            sigkill(a)
            await asyncio.sleep(EVICTED)
            s2, back = await resume(b.url, seeker.token, {room: 0})
            peers.append(s2)
            assert back["type"] == "resumed", back
            await other.request_support("grief")  # someone else starts waiting meanwhile
            ended = await s2.expect("chat_ended", room=room, timeout=RECLAIM)
            assert ended["reason"] == "listener_left" and ended["text"]
            position = await s2.expect("queue_position", timeout=3)
            assert position["position"] == 1  # ahead of the newer seeker
        finally:
            await close_all(*peers)


async def test_seeker_who_never_returns_frees_the_listener_seat(redis: RedisProcess) -> None:
    """A dies; only the listener comes back. It is told the seeker left, and its seat is
    free again: the next seeker is paired with it."""
    with nodes(2, redis=redis) as (a, b):
        seeker = await Peer.open(a.url)
        sam = await listener(a.url)
        peers: list[Peer] = [seeker, sam]
        try:
            await seeker.request_support("grief")
            room = await paired(seeker, sam)
            sigkill(a)
            await asyncio.sleep(EVICTED)
            l2, back = await resume(b.url, sam.token, {room: 0})
            peers.append(l2)
            assert back["type"] == "resumed", back
            ended = await l2.expect("chat_ended", room=room, timeout=RECLAIM)
            assert ended["reason"] == "seeker_left", ended
            nxt = await Peer.open(b.url)
            peers.append(nxt)
            await nxt.request_support("grief")
            assert (await nxt.expect("paired", timeout=5))["peer"]["handle"] == "Sam"
        finally:
            await close_all(*peers)


async def test_a_dead_nodes_waiting_seeker_never_takes_a_listeners_seat(
    redis: RedisProcess,
) -> None:
    """A seeker waits on A; A dies and the seeker never comes back. A listener on B must
    not be tied up by it: the next real seeker is paired with the listener, and the
    listener never gets a ``paired`` for someone who cannot receive it."""
    with nodes(2, redis=redis) as (a, b):
        ghost = await Peer.open(a.url)
        peers: list[Peer] = [ghost]
        try:
            await ghost.request_support("grief")
            sigkill(a)
            real = await Peer.open(b.url)
            peers.append(real)
            await real.request_support("grief")
            sam = await listener(b.url)
            peers.append(sam)
            got = await sam.expect("paired", timeout=RECLAIM)
            assert got["peer"]["handle"] == real.handle, got
            await real.expect("paired", timeout=3)
        finally:
            await close_all(*peers)


async def test_a_dead_listeners_seat_is_not_offered_to_seekers(redis: RedisProcess) -> None:
    """A listener listens on A; A dies and the listener never comes back. A seeker on B
    must not be paired with the dead seat: after the grace they wait in the queue, and
    listeners on B see them waiting."""
    with nodes(2, redis=redis) as (a, b):
        gone = await listener(a.url, lid="l-gone", name="Gone")
        peers: list[Peer] = [gone]
        try:
            sigkill(a)
            await asyncio.sleep(GRACE + 1.0)  # the listener could have resumed until now
            seeker = await Peer.open(b.url)
            peers.append(seeker)
            await seeker.request_support("grief")
            await seeker.nothing("paired", within=2)
            watcher = await listener(b.url, lid="l-2", name="Ana", capacity=0)
            peers.append(watcher)
            status = await watcher.expect(
                lambda f: (
                    f["type"] == "queue_status"
                    and any(q["topic"] == "grief" and q["waiting"] == 1 for q in f["queues"])
                ),
                timeout=3,
            )
            assert status
        finally:
            await close_all(*peers)


async def test_every_key_a_node_writes_has_a_ttl(redis: RedisProcess) -> None:
    """Group room with history, a waiting seeker, a listening listener, a live pair, a
    dropped session: every key in Redis has a TTL."""
    with nodes(2, redis=redis) as (a, b):
        peers = await _busy_service(a.url, b.url)
        client = await admin(redis)
        try:
            await asyncio.sleep(0.5)
            assert await scan_keys(client)  # there is something to look at
            bad = [k.decode() for k in await keys_without_ttl(client)]
            assert not bad, "keys without a TTL: " + " ".join(bad)
        finally:
            await client.aclose()
            await close_all(*peers)


async def test_after_every_node_dies_redis_holds_no_chat_data(redis: RedisProcess) -> None:
    """The same busy service; both nodes are killed. Within a bounded time a SCAN of Redis
    finds no key at all (no reports were made, so nothing is kept for retention)."""
    with nodes(2, "--history-seconds", "5", redis=redis) as (a, b):
        peers = await _busy_service(a.url, b.url)
        client = await admin(redis)
        try:
            sigkill(a)
            sigkill(b)
            # snapshots live 2 x grace; history --history-seconds; presence the TTL
            deadline = time.monotonic() + max(2 * GRACE, 5.0, PRESENCE_TTL) + 3.0
            left = await scan_keys(client)
            while left and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                left = await scan_keys(client)
            assert not left, "keys left: " + " ".join(k.decode() for k in left)
        finally:
            await client.aclose()
            await close_all(*peers)


async def _busy_service(url_a: str, url_b: str) -> list[Peer]:
    """Everything that writes to Redis: a group room with messages, a paired chat across
    nodes, a waiting seeker, an idle listening listener and a dropped session in grace."""
    talker = await Peer.open(url_a)
    friend = await Peer.open(url_b)
    await talker.join("anxiety")
    await friend.join("anxiety")
    for i in range(3):
        assert (await talker.say("anxiety", f"hello {i}"))["type"] == "ack"
    seeker = await Peer.open(url_a)
    sam = await listener(url_b)
    await seeker.request_support("grief")
    room = await paired(seeker, sam)
    assert (await seeker.say(room, "thanks"))["type"] == "ack"
    waiting = await Peer.open(url_b)
    await waiting.request_support("anxiety")
    idle = await listener(url_a, lid="l-3", name="Kim", capacity=0)
    dropped = await Peer.open(url_b)
    await dropped.join("grief")
    dropped.drop()
    return [talker, friend, seeker, sam, waiting, idle, dropped]
