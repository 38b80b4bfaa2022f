"""One contract, every broker: the memory twin, Redis standalone and a 3-master Redis Cluster.

The factory is typed as :class:`Broker`, so mypy checks that each twin conforms. Tests
that need two nodes sharing one backend (cross-node delivery, eviction) skip the memory
twin, which is one process by design.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgpack
import pytest

from chatserver.broker.base import Broker, BrokerUnavailable, Claim, Entry
from chatserver.broker.memory import MemoryBroker
from chatserver.broker.redis import RedisBroker
from tests.helpers.procs import RedisClusterProcess, RedisProcess

WAIT = 10.0
_rooms = itertools.count()


class Clock:
    """An injected wall clock: history expiry is tested without sleeping."""

    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    """A node's deliver callback: every (room, seq, payload), awaitable by count."""

    def __init__(self) -> None:
        self.got: list[tuple[str, int, bytes]] = []
        self._changed = asyncio.Event()

    def __call__(self, room: str, seq: int, payload: bytes) -> None:
        self.got.append((room, seq, payload))
        self._changed.set()

    def seqs(self, room: str) -> list[int]:
        return [seq for r, seq, _ in self.got if r == room]

    async def wait_for(self, room: str, count: int) -> list[tuple[int, bytes]]:
        async with asyncio.timeout(WAIT):
            while len(self.seqs(room)) < count:
                self._changed.clear()
                await self._changed.wait()
        return [(seq, payload) for r, seq, payload in self.got if r == room]


class Evictions:
    def __init__(self) -> None:
        self.got: list[tuple[str, str, bytes]] = []
        self.event = asyncio.Event()

    async def __call__(self, room: str, handle: str, member: bytes) -> None:
        self.got.append((room, handle, member))
        self.event.set()


class Backend:
    """Makes started brokers on one backend; closes them all at the end."""

    def __init__(self, kind: str, url: str) -> None:
        self.kind = kind
        self.url = url
        self.shared = kind != "memory"
        self.clock = Clock()
        self.prefix = "t" + secrets.token_hex(4)
        self.brokers: list[Broker] = []

    async def broker(
        self,
        node_id: str = "a",
        deliver: Recorder | None = None,
        on_evict: Evictions | None = None,
        **options: Any,
    ) -> Broker:
        broker: Broker
        if self.kind == "memory":
            broker = MemoryBroker(node_id, clock=self.clock, **options)
        else:
            broker = RedisBroker(self.url, node_id, prefix=self.prefix, clock=self.clock, **options)
        await broker.start(deliver or Recorder(), None, on_evict)
        self.brokers.append(broker)
        return broker

    async def close(self) -> None:
        for broker in self.brokers:
            await broker.close()


@pytest.fixture(params=["memory", "redis", "cluster"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    url = ""
    if request.param == "redis":
        server: RedisProcess = request.getfixturevalue("redis_server")
        url = server.url
    elif request.param == "cluster":
        cluster: RedisClusterProcess = request.getfixturevalue("redis_cluster")
        url = cluster.url
    backend = Backend(request.param, url)
    try:
        yield backend
    finally:
        await backend.close()


async def until(done: Callable[[], Awaitable[bool]], timeout: float) -> None:
    """Poll ``done`` until it holds; TimeoutError after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            if await done():
                return
            await asyncio.sleep(0.05)


def new_room() -> str:
    return f"room{next(_rooms)}-{secrets.token_hex(2)}"


def member(node: str, role: str = "seeker") -> bytes:
    data: bytes = msgpack.packb({"role": role, "node": node})
    return data


async def test_publish_assigns_sequence_and_delivers_in_order(backend: Backend) -> None:
    seen = Recorder()
    broker = await backend.broker(deliver=seen)
    room = new_room()
    await broker.subscribe(room)
    seqs = await asyncio.gather(
        *(broker.publish(room, f"m{i}".encode(), sequenced=True) for i in range(50))
    )
    assert sorted(seqs) == list(range(1, 51))
    got = await seen.wait_for(room, 50)
    assert [seq for seq, _ in got] == list(range(1, 51))
    by_seq = dict(zip(seqs, (f"m{i}".encode() for i in range(50)), strict=True))
    assert all(payload == by_seq[seq] for seq, payload in got)
    assert await broker.last_seq(room) == 50


async def test_unsequenced_carries_zero_and_stays_out_of_history(backend: Backend) -> None:
    seen = Recorder()
    broker = await backend.broker(deliver=seen)
    room = new_room()
    await broker.subscribe(room)
    assert await broker.publish(room, b"typing", sequenced=False) == 0
    assert await seen.wait_for(room, 1) == [(0, b"typing")]
    assert await broker.history(room, 0) == []
    assert await broker.last_seq(room) == 0


async def test_concurrent_publishers_on_two_nodes_get_gap_free_sequences(
    backend: Backend,
) -> None:
    if not backend.shared:
        pytest.skip("the memory broker is one node")
    seen_a, seen_b = Recorder(), Recorder()
    a = await backend.broker("a", seen_a)
    b = await backend.broker("b", seen_b)
    room = new_room()
    await a.subscribe(room)
    await b.subscribe(room)
    seqs = await asyncio.gather(
        *(
            node.publish(room, f"{name}{i}".encode(), sequenced=True)
            for i in range(100)
            for name, node in (("a", a), ("b", b))
        )
    )
    assert sorted(seqs) == list(range(1, 201))
    got_a = await seen_a.wait_for(room, 200)
    got_b = await seen_b.wait_for(room, 200)
    assert [s for s, _ in got_a] == list(range(1, 201))
    assert got_a == got_b  # same payloads, same order, on both nodes


async def test_history_keeps_the_last_n(backend: Backend) -> None:
    broker = await backend.broker(history_size=5)
    room = new_room()
    for i in range(8):
        await broker.publish(room, f"m{i}".encode(), sequenced=True)
    assert await broker.history(room, 0) == [Entry(s, f"m{s - 1}".encode()) for s in range(4, 9)]
    assert [e.seq for e in await broker.history(room, 6)] == [7, 8]
    assert await broker.history(room, 8) == []


async def test_history_forgets_old_messages(backend: Backend) -> None:
    broker = await backend.broker(history_seconds=10)
    room = new_room()
    for i in range(3):
        await broker.publish(room, f"old{i}".encode(), sequenced=True)
    backend.clock.now += 6
    await broker.publish(room, b"newer", sequenced=True)
    backend.clock.now += 5  # the first three are now 11 s old
    assert await broker.history(room, 0) == [Entry(4, b"newer")]
    await broker.publish(room, b"newest", sequenced=True)
    assert [e.seq for e in await broker.history(room, 0)] == [4, 5]
    backend.clock.now += 60
    assert await broker.history(room, 0) == []
    assert await broker.last_seq(room) == 5  # sequence numbers never go back


async def test_claim_taken_full_and_release_deletes_the_room(backend: Backend) -> None:
    broker = await backend.broker()
    room = new_room()
    assert await broker.claim(room, "Calm Heron", member("a"), capacity=2) is Claim.OK
    assert await broker.claim(room, "Calm Heron", member("a"), capacity=2) is Claim.TAKEN
    assert await broker.claim(room, "Kind Otter", member("a", "listener"), capacity=2) is Claim.OK
    assert await broker.claim(room, "Quiet Fox", member("a"), capacity=2) is Claim.FULL
    assert dict(await broker.members(room)) == {
        "Calm Heron": member("a"),
        "Kind Otter": member("a", "listener"),
    }
    await broker.publish(room, b"hello", sequenced=True)
    assert await broker.release(room, "Calm Heron") is False
    assert list(await broker.members(room)) == ["Kind Otter"]
    assert await broker.last_seq(room) == 1
    assert await broker.release(room, "Kind Otter") is True
    assert await broker.members(room) == {}
    assert await broker.last_seq(room) == 0
    assert await broker.history(room, 0) == []
    assert await broker.release(room, "Kind Otter") is False
    if isinstance(broker, RedisBroker):
        assert await _keys(backend, room) == []


async def test_reclaim_takes_a_seat_back_only_for_its_owner(backend: Backend) -> None:
    """Member values are opaque (any bytes); the owner is compared as given."""
    a = await backend.broker("a")
    b = await backend.broker("b") if backend.shared else a
    room = new_room()
    assert await b.reclaim(room, "Calm Heron", b"x", "s1") is Claim.GONE  # no such room
    assert await a.claim(room, "Calm Heron", b"\x00opaque", owner="s1") is Claim.OK
    assert await a.claim(room, "Kind Otter", b"\xff") is Claim.OK  # no owner
    assert await b.reclaim(room, "Calm Heron", b"moved", "s2") is Claim.TAKEN
    assert await b.reclaim(room, "Kind Otter", b"moved", "") is Claim.TAKEN  # none: never
    assert dict(await b.members(room)) == {"Calm Heron": b"\x00opaque", "Kind Otter": b"\xff"}
    flags = ("consent:Calm Heron",)
    assert await b.reclaim(room, "Calm Heron", b"moved", "s1", flags=flags) is Claim.OK
    assert (await a.members(room))["Calm Heron"] == b"moved"
    assert await a.reclaim(room, "Calm Heron", b"back", "s1", flags=flags) is Claim.OK
    assert await b.reclaim(room, "Quiet Fox", b"q", "s3") is Claim.OK  # free handle: taken
    await a.set_flag(room, "consent:Calm Heron", 1)
    assert await a.release(room, "Calm Heron") is False  # the reclaimed seat's flags go too
    assert await a.flags(room) == {}
    assert await b.release(room, "Quiet Fox") is False
    assert await a.release(room, "Kind Otter") is True
    assert await a.reclaim(room, "Kind Otter", b"x", "s1") is Claim.GONE


async def test_publish_once_relays_a_marked_message_once(backend: Backend) -> None:
    seen = Recorder()
    a = await backend.broker("a", seen)
    b = await backend.broker("b") if backend.shared else a
    room = new_room()
    await a.subscribe(room)
    assert await a.publish_once(room, b"first <m1>", b"<m1>") == (1, None)
    await a.publish(room, b"other", sequenced=True)
    assert await b.publish_once(room, b"first <m1> again", b"<m1>") == (1, b"first <m1>")
    assert await b.publish_once(room, b"second <m2>", b"<m2>") == (3, None)
    got = await seen.wait_for(room, 3)
    assert got == [(1, b"first <m1>"), (2, b"other"), (3, b"second <m2>")]
    assert await a.last_seq(room) == 3


async def test_room_flags_are_shared_and_go_when_the_room_closes(backend: Backend) -> None:
    a = await backend.broker("a")
    b = await backend.broker("b") if backend.shared else a
    room = new_room()
    assert await a.flags(room) == {}
    assert await a.set_flag(room, "slow", 30) is False  # no room yet: nothing kept
    assert await a.flags(room) == {}
    assert await a.claim(room, "Kind Otter", member("a", "listener")) is Claim.OK
    assert await a.set_flag(room, "slow", 30) is True
    await a.set_flag(room, "consent", 1)
    await a.set_flag(room, "slow", 10)
    assert dict(await b.flags(room)) == {"slow": 10, "consent": 1}
    flags = ("consent:Calm Heron",)  # named by the caller: the broker reads no flag name
    assert await a.claim(room, "Calm Heron", member("a"), flags=flags) is Claim.OK
    await a.set_flag(room, "consent:Calm Heron", 1)
    assert "consent:Calm Heron" in await b.flags(room)
    assert await a.release(room, "Calm Heron") is False  # a member's consent leaves with them
    assert dict(await b.flags(room)) == {"slow": 10, "consent": 1}
    assert await a.release(room, "Kind Otter") is True
    assert await b.flags(room) == {}
    assert await b.set_flag(room, "slow", 30) is False  # closed: a reused name starts clean
    if isinstance(a, RedisBroker):
        assert await _keys(backend, room) == []


async def _keys(backend: Backend, room: str) -> list[bytes]:
    """Every key of ``room`` on the backend (all shards of a cluster)."""
    from redis.asyncio import Redis
    from redis.asyncio.cluster import RedisCluster

    pattern = f"{backend.prefix}:{{{room}}}*"
    if backend.kind == "cluster":
        cluster = RedisCluster.from_url(backend.url.replace("redis+cluster", "redis"))
        try:
            return [key async for key in cluster.scan_iter(match=pattern)]
        finally:
            await cluster.aclose()
    client = Redis.from_url(backend.url)
    try:
        return [key async for key in client.scan_iter(match=pattern)]
    finally:
        await client.aclose()


async def test_subscribe_and_unsubscribe(backend: Backend) -> None:
    seen = Recorder()
    broker = await backend.broker(deliver=seen)
    room, other = new_room(), new_room()
    await broker.publish(room, b"before", sequenced=True)  # nobody subscribed: not delivered
    await broker.subscribe(room)
    await broker.subscribe(other)
    await broker.publish(room, b"during", sequenced=True)
    assert await seen.wait_for(room, 1) == [(2, b"during")]
    await broker.unsubscribe(room)
    await broker.publish(room, b"after", sequenced=True)
    await broker.publish(other, b"barrier", sequenced=True)  # same path, published later
    await seen.wait_for(other, 1)
    assert seen.seqs(room) == [2]
    assert broker.statistics().subscriptions == 1


async def test_delivery_reaches_every_subscribed_node(backend: Backend) -> None:
    if not backend.shared:
        pytest.skip("the memory broker is one node")
    seen_a, seen_b, seen_c = Recorder(), Recorder(), Recorder()
    a = await backend.broker("a", seen_a)
    b = await backend.broker("b", seen_b)
    c = await backend.broker("c", seen_c)
    room = new_room()
    await a.subscribe(room)
    await b.subscribe(room)
    assert await c.publish(room, b"x", sequenced=True) == 1
    assert await seen_a.wait_for(room, 1) == [(1, b"x")]
    assert await seen_b.wait_for(room, 1) == [(1, b"x")]
    assert seen_c.got == []


async def test_dead_node_members_are_held_for_the_grace_then_evicted_once(
    backend: Backend,
) -> None:
    """A node dies: its members stay (held, not counted against capacity) while its people
    may resume on another node; a seat taken back meanwhile is kept; the rest are
    evicted once, by one survivor, when the hold runs out."""
    if not backend.shared:
        pytest.skip("the memory broker is one node: no other node can die")
    ttl, hold = 0.8, 30.0
    evicted_b, evicted_c = Evictions(), Evictions()
    a = await backend.broker("a", presence_ttl=ttl, hold=hold)
    b = await backend.broker("b", on_evict=evicted_b, presence_ttl=ttl, hold=hold)
    c = await backend.broker("c", on_evict=evicted_c, presence_ttl=ttl, hold=hold)
    shared, alone = new_room(), new_room()
    flags = ("consent:Calm Heron",)
    assert await a.claim(shared, "Calm Heron", member("a"), flags=flags) is Claim.OK
    assert await c.claim(shared, "Kind Otter", member("c", "listener")) is Claim.OK
    assert await a.set_flag(shared, "consent:Calm Heron", 1) is True
    assert await a.claim(alone, "Quiet Fox", member("a"), owner="s-fox") is Claim.OK
    await a.set_flag(alone, "slow", 30)
    await asyncio.sleep(ttl / 2)  # let b and c sweep while a is alive: nothing goes
    assert len(await c.members(shared)) == 2
    await a.close()  # a stops heart-beating (a SIGKILL is tested with real processes)

    async def newcomer_seated() -> bool:
        return await c.claim(shared, "New Wren", member("c"), capacity=2) is Claim.OK

    await until(newcomer_seated, ttl * 3)  # noticed: Calm Heron's seat is held, not counted
    assert await b.reclaim(alone, "Quiet Fox", member("b"), "s-fox") is Claim.OK  # resumed
    await asyncio.sleep(ttl)  # sweeps within the hold evict nothing
    assert evicted_b.got + evicted_c.got == []
    assert "Calm Heron" in await c.members(shared)
    backend.clock.now += hold + 1

    async def evicted() -> bool:
        return "Calm Heron" not in await c.members(shared)

    await until(evicted, ttl * 2)
    await asyncio.sleep(ttl / 2)  # a second survivor's sweep finds nothing more to do
    assert evicted_b.got + evicted_c.got == [(shared, "Calm Heron", member("a"))]
    assert await c.flags(shared) == {}  # the evicted member's flags left with it
    assert set(await c.members(shared)) == {"Kind Otter", "New Wren"}
    assert await c.members(alone) == {"Quiet Fox": member("b")}  # taken back: kept


async def test_a_held_seat_keeps_its_owner_but_not_the_room(backend: Backend) -> None:
    """A dropped member's seat is held: a newcomer gets in even at capacity, and the
    owner's reclaim still succeeds (the room is then briefly over capacity)."""
    a = await backend.broker("a")
    room = new_room()
    assert await a.claim(room, "Calm Heron", member("a"), capacity=2, owner="s1") is Claim.OK
    assert await a.claim(room, "Kind Otter", member("a"), capacity=2, owner="s2") is Claim.OK
    assert await a.claim(room, "Quiet Fox", member("a"), capacity=2) is Claim.FULL
    await a.hold(room, "Calm Heron")
    await a.hold(room, "Nobody")  # an absent seat: nothing happens
    assert await a.claim(room, "Quiet Fox", member("a"), capacity=2) is Claim.OK
    assert await a.claim(room, "Lone Wolf", member("a"), capacity=2) is Claim.FULL
    assert await a.reclaim(room, "Calm Heron", member("a"), "s1") is Claim.OK
    assert set(await a.members(room)) == {"Calm Heron", "Kind Otter", "Quiet Fox"}
    assert await a.claim(room, "Lone Wolf", member("a"), capacity=2) is Claim.FULL


async def test_every_key_has_a_ttl_and_the_living_keep_their_rooms(backend: Backend) -> None:
    """Nothing is written without a TTL; a node's heartbeat refreshes the rooms it has
    members in and trims a silent room's history on the clock."""
    if backend.kind != "redis":
        pytest.skip("TTLs are a Redis matter (a cluster has the same scripts)")
    from redis.asyncio import Redis

    ttl = 0.4
    a = await backend.broker("a", presence_ttl=ttl, hold=1.0, history_seconds=5)
    room = new_room()
    assert await a.claim(room, "Calm Heron", member("a")) is Claim.OK
    await a.set_flag(room, "slow", 5)
    for i in range(3):
        await a.publish(room, f"m{i}".encode(), sequenced=True)
    client = Redis.from_url(backend.url)
    try:
        keys = [k async for k in client.scan_iter(match=f"{backend.prefix}:*")]
        assert len(keys) >= 6  # members, seats, flags, seq, hist, node keys
        ttls = {k.decode(): await client.pttl(k) for k in keys}
        assert all(v > 0 for v in ttls.values()), ttls
        assert 0 < ttls[f"{backend.prefix}:{{{room}}}:hist"] <= 5000
        await asyncio.sleep(2.5)  # longer than the lease was when written: refreshed
        assert await client.exists(f"{backend.prefix}:{{{room}}}:members")
        backend.clock.now += 6  # every message is older than history_seconds

        async def trimmed() -> bool:
            return not await client.llen(f"{backend.prefix}:{{{room}}}:hist")

        await until(trimmed, ttl * 4)
        assert await a.last_seq(room) == 3  # the sequence stays while the room lives
    finally:
        await client.aclose()


async def test_closed_broker_refuses_publish(backend: Backend) -> None:
    if not backend.shared:
        pytest.skip("the memory broker has nothing to lose")
    broker = await backend.broker()
    await broker.close()
    with pytest.raises(BrokerUnavailable):
        await broker.publish(new_room(), b"x", sequenced=True)
