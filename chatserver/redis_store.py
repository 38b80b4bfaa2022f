"""The small Redis client shared by the stores beside the broker (pairing, session
snapshots, reports): one pool per store, a semaphore so callers wait for a connection
(redis-py >= 8 raises ``MaxConnectionsError`` past the pool instead of waiting), and
Redis errors translated at this edge into :class:`BrokerUnavailable`, chained.

Every call has a deadline (:data:`OP_TIMEOUT`, the wait for a connection included): a
store sits on paths a person waits on (a join, a resume, a report), and a Redis that
stopped answering must turn into a clear "try again", never a hang.

After Redis restarts, each pooled connection fails once (the old server closed it).
Calls that are safe to repeat say ``retry=True`` and are tried once more on a fresh
connection when the connection was lost, so a person's first resume after a restart is
not refused for nothing; others (a report's LPOP) fail as before and their caller retries.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError

from chatserver.broker.base import BrokerUnavailable
from chatserver.broker.redis_wire import parse_url

#: Deadline of one store call, waiting for a pool connection included.
OP_TIMEOUT = 2.0
CONNECT_TIMEOUT = 1.0


class RedisStore:
    """Base of the Redis twins of the stores: ``_do`` runs one command, guarded."""

    #: a name for errors ("pairing store")
    what = "store"

    def __init__(self, url: str, pool_size: int = 20, *, timeout: float = OP_TIMEOUT) -> None:
        address, cluster = parse_url(url)
        self._timeout = timeout
        common: dict[str, Any] = {
            "max_connections": pool_size,
            "socket_timeout": timeout,
            "socket_connect_timeout": min(CONNECT_TIMEOUT, timeout),
        }
        self._redis: Any = (
            RedisCluster.from_url(address, **common)
            if cluster
            else Redis.from_url(address, **common)
        )
        self._slots = asyncio.Semaphore(pool_size)
        #: a cluster client learns the slot map once, before the first command: many
        #: first commands at once each began learning it over half-open connections
        self._ready = not cluster
        self._learning = asyncio.Lock()

    async def _learn_slots(self) -> None:
        async with self._learning:
            if not self._ready:
                await self._redis.initialize()
                self._ready = True

    async def _guarded(self, call: Callable[[], Awaitable[Any]], *, retry: bool = False) -> Any:
        """Run ``call`` within the deadline (both tries together, with ``retry``)."""
        try:
            async with asyncio.timeout(self._timeout), self._slots:
                if not self._ready:
                    await self._learn_slots()
                try:
                    return await call()
                except RedisConnectionError:
                    if not retry:
                        raise
                    return await call()  # the pool hands out a new connection
        except (RedisError, RedisClusterException, OSError, TimeoutError) as exc:
            raise BrokerUnavailable(f"{self.what}: {type(exc).__name__}") from exc

    async def _do(self, *command: Any, retry: bool = False) -> Any:
        return await self._guarded(lambda: self._redis.execute_command(*command), retry=retry)

    async def aclose(self) -> None:
        # closing: nothing is lost if it fails, the sockets go with the process
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            async with asyncio.timeout(self._timeout):
                await self._redis.aclose()
