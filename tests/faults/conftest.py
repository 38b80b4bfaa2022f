from collections.abc import Iterator

import pytest

from tests.faults.kit import own_redis
from tests.helpers.procs import RedisProcess


@pytest.fixture
def redis() -> Iterator[RedisProcess]:
    """A redis-server of this test's own: fault tests restart it and scan every key."""
    with own_redis() as server:
        yield server
