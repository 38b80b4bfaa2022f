"""The Redis broker under faults, in process: lost subscriber connections, Redis down."""

from __future__ import annotations

import asyncio
import secrets
import signal
import time

import pytest
from redis.asyncio import Redis

from chatserver.broker import redis as redis_broker
from chatserver.broker.base import BrokerUnavailable
from chatserver.broker.redis import RedisBroker
from chatserver.broker.redis_core import POOL_SIZE
from chatserver.broker.redis_wire import parse_url
from tests.contracts.test_broker_contract import Recorder
from tests.helpers.procs import RedisClusterProcess, RedisProcess


def test_parse_url() -> None:
    assert parse_url("redis+cluster://h:7000") == ("redis://h:7000", True)
    assert parse_url("rediss+cluster://h:7000/0") == ("rediss://h:7000/0", True)
    assert parse_url("redis://h:6380/2") == ("redis://h:6380/2", False)


async def test_gap_after_a_lost_subscription_is_filled_once_in_order(
    redis_server: RedisProcess,
) -> None:
    prefix = "t" + secrets.token_hex(4)
    seen = Recorder()
    health: list[bool] = []
    a = RedisBroker(redis_server.url, "a", prefix=prefix)
    c = RedisBroker(redis_server.url, "c", prefix=prefix)
    admin = Redis.from_url(redis_server.url)
    try:
        await a.start(seen, health.append)
        await c.start(Recorder())
        room = "r" + secrets.token_hex(3)
        await a.subscribe(room)
        for i in range(5):
            await c.publish(room, f"m{i}".encode(), sequenced=True)
        await seen.wait_for(room, 5)
        await admin.client_kill_filter(_type="pubsub")
        for i in range(5, 40):
            await c.publish(room, f"m{i}".encode(), sequenced=True)
        got = await seen.wait_for(room, 40)
        assert [seq for seq, _ in got] == list(range(1, 41))
        assert [p for _, p in got] == [f"m{i}".encode() for i in range(40)]
        assert health[0] is True
    finally:
        await a.close()
        await c.close()
        await admin.aclose()


async def test_publish_fails_fast_while_redis_is_down_and_recovers() -> None:
    redis = RedisProcess().start()
    health: list[bool] = []
    changed = asyncio.Event()

    def on_health(up: bool) -> None:
        health.append(up)
        changed.set()

    seen = Recorder()
    broker = RedisBroker(redis.url, "a")
    try:
        await broker.start(seen, on_health)
        await broker.subscribe("room")
        assert await broker.publish("room", b"one", sequenced=True) == 1
        await asyncio.to_thread(redis.stop)
        async with asyncio.timeout(5):
            while health[-1] is not False:
                changed.clear()
                await changed.wait()
        started = time.monotonic()
        for _ in range(3):
            try:
                await broker.publish("room", b"lost", sequenced=True)
            except BrokerUnavailable as exc:
                assert exc.__cause__ is not None
            else:
                raise AssertionError("published while Redis is down")
        assert time.monotonic() - started < 0.5
        assert not broker.healthy
        await asyncio.to_thread(redis.start)
        async with asyncio.timeout(10):
            while health[-1] is not True:
                changed.clear()
                await changed.wait()
        assert await broker.publish("room", b"two", sequenced=True) == 2  # repaired
        assert [seq for seq, _ in await seen.wait_for("room", 2)] == [1, 2]
    finally:
        await broker.close()
        redis.cleanup()


async def test_one_slow_operation_fails_alone_while_redis_answers(
    redis_server: RedisProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Congestion is not a lost connection: the slow call gets BrokerUnavailable, and the
    broker stays healthy (no teardown, no degraded notice to every room)."""
    monkeypatch.setattr(redis_broker, "OP_TIMEOUT", 0.3)
    health: list[bool] = []
    broker = RedisBroker(redis_server.url, "a", prefix="t" + secrets.token_hex(4))
    seen = Recorder()
    try:
        await broker.start(seen, health.append)
        await broker.subscribe("room")
        stuck = asyncio.get_running_loop().create_task(
            broker._op("history", lambda: asyncio.sleep(5))
        )
        for i in range(6):  # Redis keeps answering meanwhile
            assert await broker.publish("room", b"m", sequenced=True) == i + 1
            await asyncio.sleep(0.1)
        with pytest.raises(BrokerUnavailable):
            await stuck
        assert broker.healthy
        assert health == [True]
        assert await broker.publish("room", b"m", sequenced=True) == 7
    finally:
        await broker.close()


async def test_a_queue_for_pool_slots_is_not_a_fault(
    redis_cluster: RedisClusterProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A join storm queues commands for the pool's slots. Waiting for a slot is this node
    being busy: each command still gets its whole deadline once it runs, and nothing
    breaks the broker (on a cluster a missed deadline would: every room unavailable)."""
    monkeypatch.setattr(redis_broker, "OP_TIMEOUT", 0.2)
    health: list[bool] = []
    broker = RedisBroker(redis_cluster.url, "a", prefix="t" + secrets.token_hex(4))
    try:
        await broker.start(Recorder(), health.append)
        began = time.monotonic()
        done = await asyncio.gather(
            *(broker._op("members", lambda: asyncio.sleep(0.1)) for _ in range(4 * POOL_SIZE))
        )
        assert len(done) == 4 * POOL_SIZE and time.monotonic() - began > 0.2  # queued
        assert broker.healthy and health == [True]
    finally:
        await broker.close()


async def test_first_subscribes_of_many_rooms_at_once_on_a_cluster(
    redis_cluster: RedisClusterProcess,
) -> None:
    """A join storm on a fresh node: each shard's subscriber connects on first use, while
    other subscribes to the same shard arrive. None may use the half-open connection."""
    health: list[bool] = []
    broker = RedisBroker(redis_cluster.url, "a", prefix="t" + secrets.token_hex(4))
    try:
        await broker.start(Recorder(), health.append)
        await asyncio.gather(*(broker.subscribe(f"room{i}") for i in range(200)))
        assert broker.healthy and health == [True]
        assert broker.statistics().subscriptions == 200
    finally:
        await broker.close()


async def test_a_frozen_redis_breaks_the_broker_and_it_recovers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Redis silent for a whole deadline (SIGSTOP: no reset, no reply) is a fault."""
    monkeypatch.setattr(redis_broker, "OP_TIMEOUT", 0.5)
    redis = RedisProcess().start()
    assert redis.proc is not None
    health: list[bool] = []
    changed = asyncio.Event()

    def on_health(up: bool) -> None:
        health.append(up)
        changed.set()

    broker = RedisBroker(redis.url, "a")
    try:
        await broker.start(Recorder(), on_health)
        await broker.subscribe("room")
        await asyncio.sleep(0.6)  # nothing answered for a deadline before the freeze
        redis.proc.send_signal(signal.SIGSTOP)
        try:
            with pytest.raises(BrokerUnavailable):
                await broker.publish("room", b"lost", sequenced=True)
            assert not broker.healthy
        finally:
            redis.proc.send_signal(signal.SIGCONT)
        async with asyncio.timeout(10):
            while health[-1] is not True:
                changed.clear()
                await changed.wait()
        assert await broker.publish("room", b"two", sequenced=True) >= 1
        assert health[0] is True and False in health and health[-1] is True
    finally:
        await broker.close()
        redis.cleanup()
