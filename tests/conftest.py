"""Shared fixtures: an in-process server on an ephemeral port, with the embedded broker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from chatserver.app import ChatServer
from chatserver.config import Settings
from tests.helpers.backends import redis_cluster, redis_server

__all__ = ["redis_cluster", "redis_server"]

# Timing belongs in benchmarks, not in tests: no per-example deadline (the machine is shared).
settings.register_profile("chatserver", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("chatserver")


@contextlib.asynccontextmanager
async def running(**overrides: Any) -> AsyncIterator[ChatServer]:
    """Run a ChatServer in this event loop on a free port until the block ends."""
    defaults: dict[str, Any] = {
        "port": 0,
        "log_format": "json",
        "log_level": "warning",
        "filters": (),
    }
    settings = Settings(**{**defaults, **overrides})
    server = ChatServer(settings)
    task = asyncio.get_running_loop().create_task(server.run())
    try:
        started = asyncio.ensure_future(server.started.wait())
        await asyncio.wait({task, started}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()
        assert server.started.is_set(), "server did not start"
        yield server
    finally:
        server.stop()
        async with asyncio.timeout(15):
            await task


@pytest.fixture
async def server() -> AsyncIterator[ChatServer]:
    async with running() as srv:
        yield srv


def url_of(server: ChatServer) -> str:
    return f"ws://127.0.0.1:{server.port}"
