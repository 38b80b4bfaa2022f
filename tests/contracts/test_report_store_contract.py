"""One contract, every ReportStore: the memory twin, Redis standalone and a Redis Cluster.

The factory is typed as :class:`ReportStore`, so mypy checks that each twin conforms.
Each Redis store gets its own hash tag, so tests share a server without sharing a queue.
Retention is tested with the memory twin's injected clock, and in Redis with a real
50 ms TTL (Redis checks it on access, to the millisecond).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from chatserver.moderation.redis import RedisReportStore
from chatserver.moderation.store import MemoryReportStore, ReportStore
from tests.helpers.procs import RedisClusterProcess, RedisProcess

Factory = Callable[..., ReportStore]


class Clock:
    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Twins:
    """Makes stores of one kind; ``advance`` makes time pass for them."""

    make: Factory
    advance: Callable[[float], None]
    real_time: bool
    made: list[ReportStore]

    def store(self, *, limit: int = 1000, retention: float = 3600) -> ReportStore:
        store = self.make(limit=limit, retention=retention)
        self.made.append(store)
        return store


@pytest.fixture(params=["memory", "redis", "cluster"])
async def twins(request: pytest.FixtureRequest) -> AsyncIterator[Twins]:
    if request.param == "memory":
        clock = Clock()

        def make_memory(*, limit: int, retention: float) -> ReportStore:
            return MemoryReportStore(limit=limit, retention=retention, clock=clock)

        def advance(seconds: float) -> None:
            clock.now += seconds

        made = Twins(make_memory, advance, False, [])
    else:
        fixture = "redis_server" if request.param == "redis" else "redis_cluster"
        server: RedisProcess | RedisClusterProcess = request.getfixturevalue(fixture)

        def make_redis(*, limit: int, retention: float) -> ReportStore:
            tag = "{mod-" + secrets.token_hex(4) + "}"
            return RedisReportStore(server.url, limit=limit, retention=retention, tag=tag)

        made = Twins(make_redis, lambda _: None, True, [])
    try:
        yield made
    finally:
        for store in made.made:
            await store.aclose()


async def test_reports_come_out_oldest_first_and_stay_readable(twins: Twins) -> None:
    store = twins.store()
    assert await store.next() is None
    for i in range(3):
        await store.add(f"r{i}", f"report {i}".encode())
    assert await store.next() == ("r0", b"report 0")
    assert await store.get("r0") == b"report 0"  # taken, still readable by id
    assert await store.next() == ("r1", b"report 1")
    assert await store.next() == ("r2", b"report 2")
    assert await store.next() is None
    assert await store.get("nope") is None


async def test_past_the_bound_the_oldest_are_dropped_whole(twins: Twins) -> None:
    store = twins.store(limit=3)
    for i in range(5):
        await store.add(f"r{i}", b"\x00\xff%d" % i)
    assert await store.get("r0") is None  # dropped: kept nowhere
    assert await store.get("r1") is None
    assert [await store.next() for _ in range(4)] == [
        ("r2", b"\x00\xff2"),
        ("r3", b"\x00\xff3"),
        ("r4", b"\x00\xff4"),
        None,
    ]


async def test_a_closed_report_is_gone_and_skipped(twins: Twins) -> None:
    store = twins.store()
    await store.add("a", b"A")
    await store.add("b", b"B")
    await store.close_report("a")
    await store.close_report("a")  # idempotent
    assert await store.get("a") is None
    assert await store.next() == ("b", b"B")
    assert await store.next() is None


async def test_reports_expire_after_the_retention(twins: Twins) -> None:
    store = twins.store(retention=0.05)
    await store.add("old", b"old")
    twins.advance(1.0)
    if twins.real_time:
        await asyncio.sleep(0.15)
    assert await store.get("old") is None
    assert await store.next() is None


async def test_stores_with_their_own_queue_do_not_mix(twins: Twins) -> None:
    one, two = twins.store(), twins.store()
    await one.add("x", b"X")
    assert await two.next() is None
    assert await one.next() == ("x", b"X")
