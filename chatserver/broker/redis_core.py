"""What every part of the Redis broker shares: the command client, key names, health, and
the one place Redis errors are translated into :class:`BrokerUnavailable` (chained).

The broker is cut by concern into mixins over this core: :mod:`.redis_publish` and
:mod:`.redis_subscribe` (the relay: publish, subscribe, history, ordering),
:mod:`.redis_rooms` (room state and presence) and :mod:`.redis` (lifecycle: start,
reconnect, close). They share one connection and one health state, so they are one object.

Faults: a connection error, or Redis silent for a whole operation deadline, marks the
broker broken (a deadline missed while Redis kept answering other calls is congestion:
only that call fails). While broken every call fails fast; the reconnector repairs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import structlog
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import AbstractConnection as Connection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.crc import key_slot
from redis.exceptions import (
    AskError,
    ClusterError,
    NoScriptError,
    RedisClusterException,
    RedisError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import TimeoutError as RedisTimeoutError

from chatserver.broker import lua
from chatserver.broker.base import (
    BrokerError,
    BrokerStatistics,
    BrokerUnavailable,
    Deliver,
    Evicted,
    HealthChanged,
)
from chatserver.broker.redis_wire import parse_url
from chatserver.broker.supervisor import Supervisor

log = structlog.get_logger("chatserver.broker.redis")

T = TypeVar("T")

#: Concurrent commands on the command client (the semaphore's size).
POOL_SIZE = 32
#: Connections the pool may open beyond the semaphore: commands outside ``_op`` (heartbeat,
#: repair) and connections still being released after a timeout must never hit redis-py's
#: MaxConnectionsError, which would read as a lost connection.
POOL_HEADROOM = 32
#: Deadline of one broker operation (the default), once it has a pool slot.
OP_TIMEOUT = 2.0
#: The longest wait for a pool slot, in operation deadlines.
SLOT_DEADLINES = 5
CONNECT_TIMEOUT = 1.0
#: Errors that mean "Redis cannot be reached or is reconfiguring": retry later.
_FAULTS = (RedisError, RedisClusterException, OSError, TimeoutError)


def is_fault(exc: BaseException) -> bool:
    """A fault of the connection or the cluster's shape, not a mistake of ours."""
    if isinstance(exc, ResponseError):
        return isinstance(exc, ClusterError | AskError | TryAgainError)
    return isinstance(exc, _FAULTS)


def flag_map(flat: Sequence[Any]) -> dict[str, int]:
    return {as_str(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}


def as_str(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisCore:
    """Connection, keys, health and guarded operations (see the module docstring)."""

    node_id: str

    def _init_core(
        self,
        url: str,
        node_id: str,
        *,
        history_size: int,
        history_seconds: float,
        presence_ttl: float,
        hold: float,
        prefix: str,
        clock: Callable[[], float],
        op_timeout: float,
        restart: tuple[float, float],
    ) -> None:
        self.node_id = node_id
        self._url, self._cluster = parse_url(url)
        self._history_size = history_size
        self._history_ms = int(history_seconds * 1000)
        self._ttl = presence_ttl
        #: how long a dead node's seats are held for its people to resume elsewhere
        self._hold_ms = int(hold * 1000)
        #: TTL of everything this node writes, refreshed while it lives: long enough for
        #: a dead node's rooms to outlast their hold, and many heartbeats long
        self._lease_ms = max(2 * self._hold_ms, int(presence_ttl * 4000), 1000)
        #: a room's sequence outlives its history, so a room name used again never
        #: numbers a message like one still in the history
        self._seq_ms = max(self._lease_ms, self._history_ms)
        self._prefix = prefix
        self._clock = clock
        self._deadline = op_timeout
        self._client: Redis | RedisCluster | None = None
        self._slots = asyncio.Semaphore(POOL_SIZE)
        self._deliver: Deliver | None = None
        self._on_health: HealthChanged | None = None
        self._on_evict: Evicted | None = None
        self._healthy = False
        self._reported: bool | None = None
        self._error: BaseException | None = None
        self._broken = asyncio.Event()
        #: when Redis last answered anything (monotonic): tells a busy Redis from a lost one
        self._answered = 0.0
        self._slow_logged = 0.0
        self._closing = False
        self._tasks = Supervisor(
            "broker", self._crashed, restart_min=restart[0], restart_max=restart[1]
        )
        self._published = 0
        self._delivered = 0

    # ------------------------------------------------------------------ keys

    def _channel(self, room: str) -> bytes:
        return f"{self._prefix}:{{{room}}}".encode()

    def _key(self, room: str, what: str) -> str:
        return f"{self._prefix}:{{{room}}}:{what}"

    def _node_key(self, node: str, what: str = "alive") -> str:
        return f"{self._prefix}:node:{{{node}}}:{what}"

    def _room_keys(self, room: str) -> list[str]:
        return [self._key(room, what) for what in ("members", "seq", "hist", "flags", "seats")]

    # ------------------------------------------------------------------ connections

    def _make_client(self) -> Redis | RedisCluster:
        common: dict[str, Any] = {
            "socket_timeout": self._deadline,
            "socket_connect_timeout": CONNECT_TIMEOUT,
            "retry": Retry(NoBackoff(), 0),
            "protocol": 2,
        }
        if self._cluster:
            return RedisCluster.from_url(
                self._url, max_connections=POOL_SIZE + POOL_HEADROOM, **common
            )
        pool = ConnectionPool.from_url(
            self._url, max_connections=POOL_SIZE + POOL_HEADROOM, **common
        )
        return Redis.from_pool(pool)

    def _raw(self, key: str | None = None) -> tuple[str, Callable[[], Connection]]:
        """(server name, connection factory) for the server owning ``key``'s slot. Raw
        connections have no socket timeout: callers bound every wait themselves."""
        client = self._client
        cls: type[Connection]
        if isinstance(client, RedisCluster):
            slot = key_slot(key.encode()) if key is not None else 0
            node = client.nodes_manager.get_node_from_slot(slot)
            cls, kwargs = node.connection_class, dict(node.connection_kwargs)
            name = node.name
        else:
            assert client is not None
            pool = client.connection_pool
            cls, kwargs = pool.connection_class, dict(pool.connection_kwargs)
            name = "redis"
        kwargs["socket_timeout"] = None
        return name, lambda: cls(**kwargs)

    # ------------------------------------------------------------------ health

    @property
    def healthy(self) -> bool:
        return self._healthy

    def statistics(self) -> BrokerStatistics:
        return BrokerStatistics(
            self._healthy,
            len(self._rooms_subscribed()),
            self._published,
            self._delivered,
            self._tasks.crashes,
        )

    def _rooms_subscribed(self) -> Sequence[str]:
        raise NotImplementedError

    def _forget_room(self, room: str) -> None:
        """Drop what is cached about a room this node left (the publisher's heads)."""

    async def _restore(self) -> None:
        """Put back what Redis lost (a restart without persistence): sequences, seats."""
        raise NotImplementedError

    def _crashed(self, name: str, exc: BaseException) -> None:
        """A background task crashed (the supervisor logged it and restarts it)."""
        raise NotImplementedError

    def _report(self, healthy: bool) -> None:
        if self._reported is not healthy:
            self._reported = healthy
            if self._on_health is not None:
                self._on_health(healthy)

    def _broke(self, exc: BaseException) -> None:
        """Something failed: stop serving until the reconnector has reconnected."""
        self._error = exc
        if self._healthy:
            log.warning("broker_connection_lost", error=type(exc).__name__)
        self._healthy = False
        self._broken.set()

    def _fault(self, exc: BaseException, what: str) -> None:
        """One operation failed with a fault. A connection error, or a deadline that ran
        out while Redis said nothing for a whole deadline, breaks the broker (the
        reconnector reconnects). A deadline that ran out while Redis kept answering other
        calls is congestion, in this process or in Redis: only that operation fails.
        Breaking on it would tear down every connection and tell every room the service
        is degraded, which under CPU pressure cascades (one slow call, then all).

        On a cluster every timeout breaks the broker: another shard's answers say nothing
        of the silent one, and only a reconnect reloads the slot map after a failover."""
        if not self._cluster and isinstance(exc, TimeoutError | RedisTimeoutError):
            now = time.monotonic()
            if now - self._answered < self._deadline:
                if now - self._slow_logged >= 1.0:
                    self._slow_logged = now
                    log.warning("broker_operation_slow", what=what)
                return
        self._broke(exc)

    def _unavailable(self, what: str) -> BrokerUnavailable:
        return BrokerUnavailable(f"redis unavailable: {what}")

    def _check(self, what: str) -> None:
        if not self._healthy:
            raise self._unavailable(what) from self._error

    # ------------------------------------------------------------------ commands

    async def _op(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """Run one command-client operation within its deadline; translate errors. The
        wait for a pool slot has a deadline of its own: a queue of commands (a join storm)
        is this node being busy, not Redis being lost, so it fails this call only, and
        never eats the operation's own deadline."""
        self._check(what)
        try:
            async with asyncio.timeout(self._deadline * SLOT_DEADLINES):
                await self._slots.acquire()
        except TimeoutError as exc:
            raise self._unavailable(f"{what} (busy)") from exc
        try:
            async with asyncio.timeout(self._deadline):
                result = await call()
        except Exception as exc:
            if is_fault(exc):
                self._fault(exc, what)
                raise self._unavailable(what) from exc
            if isinstance(exc, RedisError | RedisClusterException):
                raise BrokerError(f"redis: {what} failed") from exc
            raise
        finally:
            self._slots.release()
        self._answered = time.monotonic()
        return result

    async def _eval(self, script: lua.Script, keys: Sequence[str], args: Sequence[Any]) -> Any:
        client = self._client
        assert client is not None
        try:
            return await client.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await client.execute_command("EVAL", script.source, len(keys), *keys, *args)
