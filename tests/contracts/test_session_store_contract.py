"""One contract, every SessionStore: the memory twin, Redis standalone and a Redis Cluster.

The factory is typed as :class:`SessionStore`, so mypy checks that each twin conforms.
Expiry is tested with the memory twin's injected clock, and in Redis with a real 50 ms
TTL (Redis checks it on access, to the millisecond).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from chatserver.broker.base import BrokerUnavailable
from chatserver.resume.base import TAKEN, SessionStore, token_key
from chatserver.resume.memory import MemorySessionStore
from chatserver.resume.redis import RedisSessionStore
from tests.helpers.procs import RedisClusterProcess, RedisProcess

WAIT = 5.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Twin:
    store: SessionStore
    #: make ``seconds`` pass for the store: the injected clock, or real time for Redis
    advance: Callable[[float], None]
    real_time: bool


@pytest.fixture(params=["memory", "redis", "cluster"])
async def twin(request: pytest.FixtureRequest) -> AsyncIterator[Twin]:
    store: SessionStore
    if request.param == "memory":
        clock = Clock()
        store = MemorySessionStore(clock)

        def advance(seconds: float) -> None:
            clock.now += seconds

        made = Twin(store, advance, real_time=False)
    else:
        fixture = "redis_server" if request.param == "redis" else "redis_cluster"
        server: RedisProcess | RedisClusterProcess = request.getfixturevalue(fixture)
        store = RedisSessionStore(server.url)
        made = Twin(store, lambda _: None, real_time=True)
    try:
        yield made
    finally:
        await made.store.close()


def new_key() -> str:
    return token_key(secrets.token_urlsafe(16))


async def test_save_then_take_once(twin: Twin) -> None:
    store, key = twin.store, new_key()
    assert await store.take(key) is None
    await store.save(key, b"snapshot-1", 60)
    assert await store.take(key) == b"snapshot-1"
    assert await store.take(key) is TAKEN  # taken: nobody else gets it


async def test_a_taken_snapshot_is_never_saved_again(twin: Twin) -> None:
    """The node that held a session resumed elsewhere cannot bring its token back."""
    store, key = twin.store, new_key()
    assert await store.save(key, b"v1", 60) is True
    assert await store.take(key) == b"v1"
    assert await store.save(key, b"v2", 60) is False
    assert await store.take(key) is TAKEN
    await store.delete(key)
    assert await store.take(key) is None


async def test_save_again_replaces_and_keys_are_apart(twin: Twin) -> None:
    store, one, two = twin.store, new_key(), new_key()
    await store.save(one, b"a", 60)
    await store.save(one, b"b", 60)
    await store.save(two, b"\x00\xff binary", 60)
    assert await store.take(one) == b"b"
    assert await store.take(two) == b"\x00\xff binary"


async def test_delete_removes_and_is_idempotent(twin: Twin) -> None:
    store, key = twin.store, new_key()
    await store.save(key, b"a", 60)
    await store.delete(key)
    await store.delete(key)
    assert await store.take(key) is None


async def test_a_snapshot_expires_after_its_ttl(twin: Twin) -> None:
    store, key = twin.store, new_key()
    await store.save(key, b"late", 0.05)
    twin.advance(1.0)
    if twin.real_time:  # Redis checks a key's TTL on access, to the millisecond
        await asyncio.sleep(0.15)
    assert await store.take(key) is None
    other = new_key()
    await store.save(other, b"kept", 60)
    twin.advance(30)
    assert await store.take(other) == b"kept"


async def test_concurrent_takes_get_it_once(twin: Twin) -> None:
    store, key = twin.store, new_key()
    await store.save(key, b"only", 60)
    got = await asyncio.gather(*(store.take(key) for _ in range(8)))
    assert sorted(got, key=lambda g: g is TAKEN) == [b"only"] + [TAKEN] * 7


async def test_redis_down_is_unavailable_within_the_deadline() -> None:
    """A store whose Redis is gone fails with BrokerUnavailable, never hangs."""
    redis = RedisProcess().start()
    store = RedisSessionStore(redis.url)
    try:
        await store.save("k", b"v", 60)
        redis.cleanup()
        async with asyncio.timeout(WAIT):
            with pytest.raises(BrokerUnavailable):
                await store.take("k")
    finally:
        await store.close()
        redis.cleanup()
