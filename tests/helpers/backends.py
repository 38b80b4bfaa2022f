"""Session-wide Redis processes for the broker tests: one standalone server and one
3-master cluster, each on free loopback ports, started on first use and stopped at the
end. Import the fixtures into a ``conftest.py`` to use them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.procs import RedisClusterProcess, RedisProcess


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisProcess]:
    server = RedisProcess().start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisClusterProcess]:
    cluster = RedisClusterProcess().start()
    try:
        yield cluster
    finally:
        cluster.cleanup()
