"""Supervised background work: a crashed task is logged (type and file:line, never its
message), reported and restarted; a crashed publisher fails every waiting ``publish``
fast, shows in ``/readyz`` and in the metrics, and a client's ``say`` gets
``unavailable`` instead of hanging."""

from __future__ import annotations

import asyncio
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import pytest
from structlog.testing import capture_logs

from chatserver.app import ChatServer
from chatserver.broker.base import BrokerUnavailable
from chatserver.broker.redis import RedisBroker
from chatserver.broker.supervisor import Supervisor
from chatserver.config import Settings
from clients.client import ChatClient, ChatError
from protocol.messages import Ack
from tests.contracts.test_broker_contract import Recorder
from tests.helpers.procs import RedisProcess

SECRET_TEXT = "i want to tell you something private"


def _boom() -> None:
    raise ValueError(SECRET_TEXT)  # the line the crash log must point at


async def test_a_crashed_kept_task_is_logged_reported_and_restarted() -> None:
    crashes: list[tuple[str, str]] = []
    runs = 0
    running = asyncio.Event()

    async def job() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            _boom()
        running.set()
        await asyncio.Event().wait()

    tasks = Supervisor("t", lambda name, exc: crashes.append((name, type(exc).__name__)))
    with capture_logs() as logs:
        tasks.keep("job", job)
        async with asyncio.timeout(5):
            await running.wait()
            await tasks.wait_all_up()
    assert runs == 2 and crashes == [("job", "ValueError")] and tasks.crashes == 1
    assert tasks.down == frozenset()
    [entry] = [e for e in logs if e["event"] == "task_crashed"]
    assert entry["task"] == "job" and entry["error"] == "ValueError"
    assert entry["at"].startswith("test_supervised.py:")
    assert SECRET_TEXT not in repr(logs)
    assert await tasks.close(1.0) == 0
    assert tasks.crashes == 1  # cancelling at close is not a crash


async def test_a_crashed_child_is_reported_not_restarted_and_waits_for_its_restart() -> None:
    crashes: list[str] = []
    kept_crashed = asyncio.Event()

    def crashed(name: str, exc: BaseException) -> None:
        crashes.append(name)
        if name == "kept":
            kept_crashed.set()

    tasks = Supervisor("t", crashed, restart_min=30)

    async def child() -> None:
        _boom()

    async def dies() -> None:
        raise RuntimeError("x")

    with capture_logs():
        task = tasks.spawn("child", child())
        await asyncio.wait([task])
        tasks.keep("kept", dies)
        async with asyncio.timeout(5):
            await kept_crashed.wait()
    assert crashes == ["child", "kept"]
    assert tasks.down == frozenset({"kept"})  # its restart waits 30 s
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await tasks.wait_all_up()
    assert await tasks.close(1.0) == 0


async def _crash_the_publisher(broker: RedisBroker, monkeypatch: pytest.MonkeyPatch) -> None:
    async def write(batch: Any) -> Any:
        _boom()

    monkeypatch.setattr(broker, "_write", write)


async def test_a_crashed_publisher_fails_publish_fast_and_recovers(
    redis_server: RedisProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    health: list[bool] = []
    changed = asyncio.Event()

    def on_health(up: bool) -> None:
        health.append(up)
        changed.set()

    broker = RedisBroker(redis_server.url, "a", prefix="t" + secrets.token_hex(4))
    try:
        await broker.start(Recorder(), on_health)
        assert await broker.publish("room", b"one", sequenced=True) == 1
        await _crash_the_publisher(broker, monkeypatch)
        with capture_logs():
            async with asyncio.timeout(5):  # fails fast: no deadline to wait out
                with pytest.raises(BrokerUnavailable):
                    await broker.publish("room", b"two", sequenced=True)
        assert not broker.healthy and broker.statistics().crashed == 1
        monkeypatch.undo()  # the bug is gone: the restarted publisher works
        async with asyncio.timeout(10):
            while health[-1] is not True:
                changed.clear()
                await changed.wait()
        assert await broker.publish("room", b"three", sequenced=True) == 2
        assert health == [True, False, True]
    finally:
        await broker.close()


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
async def node(redis_server: RedisProcess) -> AsyncIterator[tuple[ChatServer, RedisBroker]]:
    settings = Settings(port=0, log_format="json", log_level="warning", filters=(),
                        redis_url=redis_server.url)  # fmt: skip
    # a crashed task waits a minute for its restart: the test sees the broken state
    broker = RedisBroker(redis_server.url, settings.node_id, restart_min=60, restart_max=60)
    server = ChatServer(settings, broker=broker)
    task = asyncio.get_running_loop().create_task(server.run())
    try:
        async with asyncio.timeout(10):
            await server.started.wait()
        yield server, broker
    finally:
        server.stop()
        async with asyncio.timeout(15):
            await task


async def test_say_gets_unavailable_when_the_publisher_crashed(
    node: tuple[ChatServer, RedisBroker], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, broker = node
    http = f"http://127.0.0.1:{server.port}"
    client = ChatClient(f"ws://127.0.0.1:{server.port}")
    await client.connect()
    try:
        await client.join("anxiety")
        assert isinstance(await client.say("anxiety", "hello"), Ack)
        status, _ = await asyncio.to_thread(_get, http + "/readyz")
        assert status == 200
        await _crash_the_publisher(broker, monkeypatch)
        with capture_logs() as logs:
            async with asyncio.timeout(5):
                with pytest.raises(ChatError) as failed:
                    await client.say("anxiety", SECRET_TEXT)
        assert failed.value.code == "unavailable"
        assert SECRET_TEXT not in repr(logs)
        status, body = await asyncio.to_thread(_get, http + "/readyz")
        assert status == 503 and json.loads(body)["broker"] is False
        _, metrics = await asyncio.to_thread(_get, http + "/metrics")
        assert b"chatserver_broker_task_crashes 1.0" in metrics
        assert b"chatserver_broker_up 0.0" in metrics
    finally:
        await client.close()


class _Deaf(asyncio.Event):
    """An event nobody hears: a publisher stuck somewhere, alive but not writing."""

    def set(self) -> None:
        pass


async def test_publish_has_a_deadline_even_if_the_publisher_never_writes(
    redis_server: RedisProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chatserver.broker import redis as redis_broker

    monkeypatch.setattr(redis_broker, "OP_TIMEOUT", 0.2)
    broker = RedisBroker(redis_server.url, "a", prefix="t" + secrets.token_hex(4))
    try:
        await broker.start(Recorder())
        broker._wake = _Deaf()
        with capture_logs() as logs:
            async with asyncio.timeout(5):
                results = await asyncio.gather(
                    *(broker.publish("room", b"m", sequenced=True) for _ in range(3)),
                    return_exceptions=True,
                )
        assert all(isinstance(r, BrokerUnavailable) for r in results)
        assert any(e["event"] == "publish_deadline_missed" and e["count"] == 3 for e in logs)
    finally:
        await broker.close()
