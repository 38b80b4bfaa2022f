"""The pairing store and the nodes behind it, for every twin: a node that falls silent has
absent seekers and unoffered seats at once, keeps what its people resume elsewhere, and
loses the rest once its grace is over (each change reaped exactly once); an offered pair
nobody confirms is undone; a store that lost its data is refilled by the nodes' touch;
every Redis key has a TTL. Short liveness timings; waits are bounded sleeps of a second."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from redis.asyncio import Redis

from chatserver.pairing.base import (
    Holdings,
    Liveness,
    PairingStore,
    Seat,
    Tier,
    Touched,
    Waiting,
)
from chatserver.pairing.memory import MemoryPairingStore
from chatserver.pairing.redis import RedisPairingStore
from tests.helpers.procs import RedisProcess

LIVE = Liveness(dead_after=0.3, grace=0.3)
#: longer than ``dead_after``: a node that stopped touching is now silent
SILENT = LIVE.dead_after + 0.15
#: longer than ``dead_after + grace``: a silent node is now gone
GONE = LIVE.dead_after + LIVE.grace + 0.15


async def _wipe(url: str) -> None:
    client = Redis.from_url(url)
    try:
        await client.flushall()
    finally:
        await client.aclose()


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[PairingStore]:
    if request.param == "memory":
        yield MemoryPairingStore(LIVE)
        return
    server: RedisProcess = request.getfixturevalue("redis_server")
    await _wipe(server.url)
    redis = RedisPairingStore(server.url, LIVE)
    try:
        yield redis
    finally:
        await redis.aclose()


def waiting(seeker: str, node: str, since: float, topic: str = "grief") -> Waiting:
    return Waiting(seeker, topic, node, seeker.upper(), since, Tier.NORMAL)


async def listen(store: PairingStore, listener: str, node: str) -> Seat:
    return await store.offer(
        listener, node=node, name=listener, topics=("grief",), capacity=1, auto=True
    )


async def test_a_silent_nodes_people_are_absent_then_reaped_once(store: PairingStore) -> None:
    now = time.time()
    # across nodes: s1 (on A) talks with l2 (on B); s3 (on B) with l1 (on A)
    await listen(store, "l1", "A")
    await listen(store, "l2", "B")
    await store.enqueue(waiting("s1", "A", now))
    p1 = await store.accept("l2", "grief", "room1", now)
    await store.enqueue(waiting("s3", "B", now))
    p2 = await store.accept("l1", "grief", "room2", now)
    assert p1 is not None and p2 is not None and (p1.seeker, p2.seeker) == ("s1", "s3")
    for room in ("room1", "room2"):
        assert await store.confirm(room) is True
    await store.enqueue(waiting("s4", "A", now + 1))  # waits on A; never comes back
    await store.enqueue(waiting("s5", "A", now + 2))  # waits on A; resumes on B
    await store.enqueue(waiting("s6", "B", now + 3))
    await listen(store, "l7", "A")  # a free seat on A
    await asyncio.sleep(SILENT)  # A went silent; B keeps beating
    await store.touch("B", Holdings())
    assert await store.order("grief") == ["s6"]  # A's seekers are absent
    (info,) = await store.queues(["grief"])
    assert (info.waiting, info.away) == (1, 2)
    assert await store.position("s6") == ("grief", 1)
    assert await store.match("grief", "room3", now) is None  # l7's seat is not offered
    await store.relocate("s5", "B")  # s5 resumed on B: present again, still ahead of s6
    assert await store.order("grief") == ["s5", "s6"]
    assert not await store.reap(["grief"])  # within the grace nothing ends
    await asyncio.sleep(GONE - SILENT)
    await store.touch("B", Holdings())
    reaped = await store.reap(["grief"])
    assert [p.room for p in reaped.listener_gone] == ["room2"]  # l1 gone: tell s3's node
    assert [p.room for p in reaped.seeker_gone] == ["room1"]  # s1 gone: tell l2's node
    assert reaped.topics == {"grief"} and not reaped.undone
    assert [w.seeker for w in await store.waiting("grief")] == ["s5", "s6"]  # s4 is gone
    assert await store.seat("l1") is None and await store.seat("l7") is None
    seat = await store.seat("l2")
    assert seat is not None and seat.active == 0  # free again
    assert await store.pair_of("room1") is None and await store.pair_of("room2") is None
    assert not await store.reap(["grief"])  # exactly once


async def test_an_offered_pair_nobody_confirms_is_undone(store: PairingStore) -> None:
    now = time.time()
    await store.touch("A", Holdings())
    await listen(store, "l1", "A")
    await store.enqueue(waiting("s1", "A", now))
    await store.enqueue(waiting("s2", "A", now + 1))
    pair = await store.match("grief", "room1", now)
    assert pair is not None and pair.seeker == "s1"
    assert not await store.reap(["grief"])  # still in time
    await asyncio.sleep(SILENT)
    await store.touch("A", Holdings())
    reaped = await store.reap(["grief"])
    assert [p.room for p in reaped.undone] == ["room1"]
    assert await store.confirm("room1") is False  # too late: the seeker is not seated
    assert await store.order("grief") == ["s1", "s2"]  # back at their place, present
    seat = await store.seat("l1")
    assert seat is not None and seat.active == 0


async def test_a_pair_for_a_seeker_whose_connection_dropped_is_undone(
    store: PairingStore,
) -> None:
    now = time.time()
    await listen(store, "l1", "A")
    await store.enqueue(waiting("s1", "A", now, topic="anxiety"))
    await store.enqueue(waiting("s2", "A", now + 1))
    await store.enqueue(waiting("s3", "A", now + 2))
    pair = await store.accept("l1", "grief", "room1", now)
    assert pair is not None and pair.seeker == "s2"
    back = await store.undo("room1")
    assert back == waiting("s2", "A", now + 1)
    assert await store.order("grief") == ["s3"]  # s2 keeps their place, away
    assert await store.position("s3") == ("grief", 1)
    again = await store.accept("l1", "grief", "room2", now)  # accept skips the absent one
    assert again is not None and again.seeker == "s3"
    assert await store.set_away("s2", False) == "grief"
    assert await store.order("grief") == ["s2"]


async def test_a_silent_nodes_seekers_hide_nobody_in_their_language_line(
    store: PairingStore,
) -> None:
    """Spanish seekers of a node that fell silent stand at the head of the Spanish line:
    the scan skips them (they count for nobody's position), so a present Spanish seeker
    behind them is paired; the silent node's listener is not on duty any more."""
    now = time.time()
    await store.offer(
        "l-es", node="A", name="Ana", topics=("grief",), capacity=1, auto=True,
        languages=("es",),
    )  # fmt: skip
    for i in range(20):  # more than one scan's worth
        await store.enqueue(replace(waiting(f"a{i:02}", "A", now + i), language="es"))
    await store.enqueue(replace(waiting("b1", "B", now + 30), language="es", need="listen"))
    await store.enqueue(waiting("b2", "B", now + 31))  # English: nobody speaks it here
    assert await store.languages_on_duty("grief") == ("es",)
    await asyncio.sleep(SILENT)  # A went silent; B keeps beating
    await store.touch("B", Holdings())
    assert await store.languages_on_duty("grief") == ()
    assert await store.order("grief") == ["b1", "b2"]
    assert await store.position("b1") == ("grief", 1)
    (info,) = await store.queues(["grief"])
    assert (info.waiting, info.away) == (2, 20)
    assert [(q.language, q.waiting) for q in info.languages] == [("en", 1), ("es", 1)]
    await store.offer(
        "l-es2", node="B", name="Bea", topics=("grief",), capacity=1, auto=True,
        languages=("es", "en"),
    )  # fmt: skip
    pair = await store.match("grief", "room1", now + 40)
    assert pair is not None and (pair.seeker, pair.listener) == ("b1", "l-es2")
    assert (pair.language, pair.need, pair.shared) == ("es", "listen", True)


async def test_a_store_that_lost_its_data_is_refilled_by_touch(redis_server: RedisProcess) -> None:
    await _wipe(redis_server.url)
    store = RedisPairingStore(redis_server.url, Liveness(dead_after=5, grace=5))
    try:
        now = time.time()
        await store.offer(
            "l1", node="A", name="l1", topics=("grief",), capacity=1, auto=True,
            languages=("es", "en"),
        )  # fmt: skip
        # s1 writes in Portuguese and chose any listener; s3 is at risk, in Spanish
        w1 = replace(waiting("s1", "A", now), language="pt", need="ideas", any_language=True)
        w2 = waiting("s2", "A", now + 1)
        w3 = Waiting(
            "s3", "grief", "A", "S3", now - 5, Tier.AT_RISK, ("l9",), language="es",
            need="listen",
        )  # fmt: skip
        for w in (w1, w2, w3):
            await store.enqueue(w)
        pair = await store.match("grief", "room1", now)  # s3: at risk, first
        assert pair is not None and pair.seeker == "s3" and await store.confirm("room1")
        seat = await store.seat("l1")
        assert seat is not None
        held = Holdings((w1, w2), frozenset({"s2"}), (seat,), (pair,))
        assert await store.touch("A", held) is Touched.OK  # the first look: nothing to restore
        assert await store.touch("A", held) is Touched.OK
        await _wipe(redis_server.url)  # Redis restarted without persistence
        assert await store.touch("A", held) is Touched.RESTORED
        assert await store.waiting("grief") == [w1, w2]
        assert await store.order("grief") == ["s1"]  # s2 is still away
        assert await store.pair_of("room1") == pair
        assert await store.seat("l1") == seat
        assert await store.end("room1") == pair
        again = await store.match("grief", "room2", now)  # s1 is back in the "any" line
        assert again is not None and (again.seeker, again.language, again.shared) == (
            "s1", "pt", False,
        )  # fmt: skip
        assert await store.cancel("s2") == w2
        assert await store.touch("A", held) is Touched.OK  # nothing resurrected
        assert await store.pair_of("room1") is None
        client = Redis.from_url(redis_server.url)
        try:
            keys = [k async for k in client.scan_iter()]
            assert keys and all([await client.pttl(k) > 0 for k in keys]), keys
        finally:
            await client.aclose()
    finally:
        await store.aclose()


async def test_a_node_taken_for_dead_gets_its_places_back_but_not_its_pairs(
    redis_server: RedisProcess,
) -> None:
    """A was cut off from the store for longer than its grace: B reaped it (and told the
    other side of its chats). When A touches again, its waiting seekers and seats are
    back (in their order), its ended pairs are not."""
    await _wipe(redis_server.url)
    a = RedisPairingStore(redis_server.url, LIVE)
    b = RedisPairingStore(redis_server.url, LIVE)
    try:
        now = time.time()
        seat = await listen(a, "l1", "A")
        await b.enqueue(waiting("s0", "B", now - 1))
        pair = await b.match("grief", "room1", now)
        assert pair is not None and await b.confirm("room1")
        w1, w2 = waiting("s1", "A", now), waiting("s2", "B", now + 1)
        await a.enqueue(w1)
        await b.enqueue(w2)
        seat = replace(seat, active=1)
        held = Holdings((w1,), frozenset(), (seat,), (pair,))
        assert await a.touch("A", held) is Touched.OK
        await asyncio.sleep(GONE)
        await b.touch("B", Holdings((w2,)))
        reaped = await b.reap(["grief"])
        assert [p.room for p in reaped.listener_gone] == ["room1"]
        assert await b.order("grief") == ["s2"]
        assert await a.touch("A", held) is Touched.REVIVED
        assert await b.order("grief") == ["s1", "s2"]  # s1 keeps their place
        assert await b.pair_of("room1") is None  # ended for s0: not resurrected
        back = await b.seat("l1")
        assert back is not None and (back.capacity, back.active) == (1, 0)
    finally:
        await a.aclose()
        await b.aclose()


async def test_every_key_has_a_ttl_and_the_living_keep_theirs(redis_server: RedisProcess) -> None:
    await _wipe(redis_server.url)
    live = Liveness(dead_after=0.25, grace=0.25)  # a lease of one second
    store = RedisPairingStore(redis_server.url, live)
    client = Redis.from_url(redis_server.url)
    try:
        now = time.time()
        seat = await listen(store, "l1", "A")
        await store.enqueue(waiting("s1", "A", now))
        await store.enqueue(waiting("s2", "A", now + 1))
        pair = await store.match("grief", "room-" + secrets.token_hex(2), now)
        assert pair is not None
        keys = [k async for k in client.scan_iter()]
        assert len(keys) >= 8 and all([0 < await client.pttl(k) <= 1000 for k in keys]), keys
        held = Holdings((waiting("s2", "A", now + 1),), frozenset(), (seat,), (pair,))
        for _ in range(6):  # 1.5 s: longer than the lease, yet the holder keeps it all
            await store.touch("A", held)
            await asyncio.sleep(0.25)
        assert set(keys) <= {k async for k in client.scan_iter()}
        await asyncio.sleep(live.lease + 0.2)  # nobody touches: all of it goes
        assert [k async for k in client.scan_iter()] == []
    finally:
        await client.aclose()
        await store.aclose()
