"""The Redis broker: rooms relayed between nodes through Redis pub/sub, standalone or Cluster.

Why this shape:

* **One channel per room**, subscribed once per node while the node has local members
  (the hub reference-counts). A room's keys and channel share the hash tag ``{room}`` so
  the atomic publish script runs on a cluster, where the channel is a shard channel
  (SSUBSCRIBE / SPUBLISH) living on the same shard as the keys.
* **Order = the script's order.** :data:`lua.PUBLISH` increments the room's sequence,
  appends to its bounded history and publishes in one step, so every node sees a room's
  messages in sequence order on its subscriber connection. Each node tracks the last
  sequence it delivered per room, drops duplicates and fills gaps from the history.
* **Few connections, used well.** A command client for claims, presence and history,
  with its concurrency capped by a semaphore (redis-py >= 8 raises
  ``MaxConnectionsError`` past ``max_connections`` instead of waiting, so we wait here,
  within the operation's deadline). One dedicated publisher connection per shard, written
  only by the publisher task, which drains every pending publish into one pipelined write:
  the hot path costs one round trip per batch, not per message. One subscriber connection
  per shard carries all of this node's rooms; its reader decodes a fixed header and calls
  ``deliver`` synchronously.
* **Faults.** A connection error, or Redis silent for a whole operation deadline, marks
  the broker broken (a deadline missed while Redis kept answering other calls is
  congestion: only that call fails). While broken, ``publish`` and every other call fail
  fast with :class:`BrokerUnavailable` (chained), and one supervisor task
  reconnects with exponential backoff and full jitter, re-asserts this node's presence
  (Redis may have restarted empty), resubscribes every local room and replays what was
  missed from the history, then reports healthy again.
* **Presence across nodes.** Each node refreshes ``node:{id}`` with a TTL and lists the
  rooms it has members in; survivors find a node whose key expired and evict its members
  with an atomic script, so each eviction (and its ``leave`` event) happens exactly once.

URLs: ``redis://``, ``rediss://`` or ``unix://`` for one server; ``redis+cluster://host:port``
(or ``rediss+cluster://``) for a cluster, naming any node as the seed.

Only this module and :mod:`.redis_wire` (its raw connections) import ``redis``; its errors
are translated here, at the edge.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
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
    Claim,
    Deliver,
    Entry,
    Evicted,
    HealthChanged,
)
from chatserver.broker.redis_wire import Link, Subscriber, bulk, parse_url

log = structlog.get_logger("chatserver.broker.redis")

T = TypeVar("T")

#: Concurrent commands on the command client (the semaphore's size).
POOL_SIZE = 32
#: Connections the pool may open beyond the semaphore: commands outside ``_op`` (heartbeat,
#: repair) and connections still being released after a timeout must never hit redis-py's
#: MaxConnectionsError, which would read as a lost connection.
POOL_HEADROOM = 32
#: Deadline of one broker operation, waiting for a pool slot included.
OP_TIMEOUT = 2.0
CONNECT_TIMEOUT = 1.0
#: Most publishes written in one pipelined batch.
MAX_BATCH = 512
#: Rooms whose shard and encoded publish head are kept (caches; cleared when full).
MAX_CACHED_HEADS = 4096
#: Batches written whose replies have not all arrived. While this many are in flight, new
#: publishes gather into the next batch instead of costing a socket write each.
MAX_INFLIGHT = 1
BACKOFF_MIN = 0.05
BACKOFF_MAX = 2.0
ZERO_HEADER = b"0" * lua.SEQ_DIGITS
SEQ = lua.SEQ_DIGITS
TS_SEQ = lua.TS_DIGITS + lua.SEQ_DIGITS
CLAIMS = (Claim.OK, Claim.TAKEN, Claim.FULL, Claim.GONE)
#: Errors that mean "Redis cannot be reached or is reconfiguring": retry later.
_FAULTS = (RedisError, RedisClusterException, OSError, TimeoutError)

Pending = tuple[str, bytes, bool, "asyncio.Future[int]"]
#: A batch's commands written on one link: (link, indexes in the batch, replies to come).
Sent = tuple[Link, list[int], "asyncio.Future[list[Any]]"]


def _is_fault(exc: BaseException) -> bool:
    """A fault of the connection or the cluster's shape, not a mistake of ours."""
    if isinstance(exc, ResponseError):
        return isinstance(exc, ClusterError | AskError | TryAgainError)
    return isinstance(exc, _FAULTS)


def _flag_map(flat: Sequence[Any]) -> dict[str, int]:
    return {_str(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}


def _str(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisBroker:
    """The :class:`~chatserver.broker.base.Broker` on Redis (see the module docstring)."""

    def __init__(
        self,
        url: str,
        node_id: str,
        *,
        history_size: int = 100,
        history_seconds: float = 600.0,
        presence_ttl: float = 15.0,
        prefix: str = "cs",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.node_id = node_id
        self._url, self._cluster = parse_url(url)
        self._history_size = history_size
        self._history_ms = int(history_seconds * 1000)
        self._ttl = presence_ttl
        self._prefix = prefix
        self._clock = clock
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
        self._tasks: set[asyncio.Task[None]] = set()
        # publishing
        self._queue: list[Pending] = []
        self._wake = asyncio.Event()
        self._inflight = 0
        self._landed = asyncio.Event()
        self._links: dict[str, Link] = {}
        self._link_of: dict[str, str] = {}
        self._heads: dict[tuple[str, bool], bytes] = {}
        self._eval_heads: dict[tuple[str, bool], bytes] = {}
        publish = b"SPUBLISH" if self._cluster else b"PUBLISH"
        self._tail = b"".join(
            map(bulk, (b"%d" % self._history_size, b"%d" % self._history_ms, publish))
        )
        # subscribing
        self._rooms: dict[bytes, str] = {}  # channel -> room, for every local room
        self._subscribers: dict[str, Subscriber] = {}
        self._last: dict[str, int] = {}  # room -> last sequence delivered
        self._fresh_flags: dict[str, dict[str, int]] = {}  # read by subscribe(), once
        self._recovering: dict[str, list[tuple[int, bytes]]] = {}
        # presence this node asserted, to put back after Redis lost it
        self._claims: dict[str, dict[str, bytes]] = {}
        self._unreleased: set[tuple[str, str]] = set()
        self._published = 0
        self._delivered = 0

    # ------------------------------------------------------------------ keys

    def _channel(self, room: str) -> bytes:
        return f"{self._prefix}:{{{room}}}".encode()

    def _key(self, room: str, what: str) -> str:
        return f"{self._prefix}:{{{room}}}:{what}"

    def _node_key(self, node: str, what: str = "alive") -> str:
        return f"{self._prefix}:node:{{{node}}}:{what}"

    # ------------------------------------------------------------------ lifecycle

    async def start(
        self,
        deliver: Deliver,
        on_health: HealthChanged | None = None,
        on_evict: Evicted | None = None,
    ) -> None:
        """Connect and start the publisher, supervisor and presence tasks. When Redis is
        unreachable now, the node starts degraded and the supervisor keeps trying."""
        self._deliver, self._on_health, self._on_evict = deliver, on_health, on_evict
        self._client = self._make_client()
        for job in (self._publisher(), self._supervisor(), self._presence()):
            task = asyncio.get_running_loop().create_task(job)
            self._tasks.add(task)
        try:
            async with asyncio.timeout(OP_TIMEOUT * 2):
                await self._connect()
        except Exception as exc:
            if not _is_fault(exc):
                raise
            log.warning("broker_unreachable_at_start", error=type(exc).__name__)
            self._broke(exc)
            self._report(False)
            return
        self._report(True)

    async def close(self) -> None:
        """Stop every task and connection. The heartbeat key is deleted so the surviving
        nodes evict this node's members at their next sweep."""
        self._closing = True
        tasks, self._tasks = list(self._tasks), set()
        for task in tasks:
            task.cancel()
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=OP_TIMEOUT * 2)
            if stuck:
                log.warning("broker_tasks_stuck", count=len(stuck))
        self._fail_queue(BrokerUnavailable("the broker is closed"))
        if self._healthy and self._client is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(OP_TIMEOUT):
                    await self._client.delete(self._node_key(self.node_id))
        self._healthy = False
        await self._teardown()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _make_client(self) -> Redis | RedisCluster:
        common: dict[str, Any] = {
            "socket_timeout": OP_TIMEOUT,
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
        return BrokerStatistics(self._healthy, len(self._rooms), self._published, self._delivered)

    def _report(self, healthy: bool) -> None:
        if self._reported is not healthy:
            self._reported = healthy
            if self._on_health is not None:
                self._on_health(healthy)

    def _broke(self, exc: BaseException) -> None:
        """Something failed: stop serving until the supervisor has reconnected."""
        self._error = exc
        if self._healthy:
            log.warning("broker_connection_lost", error=type(exc).__name__)
        self._healthy = False
        self._broken.set()

    def _fault(self, exc: BaseException, what: str) -> None:
        """One operation failed with a fault. A connection error, or a deadline that ran
        out while Redis said nothing for a whole deadline, breaks the broker (the
        supervisor reconnects). A deadline that ran out while Redis kept answering other
        calls is congestion, in this process or in Redis: only that operation fails.
        Breaking on it would tear down every connection and tell every room the service
        is degraded, which under CPU pressure cascades (one slow call, then all).

        On a cluster every timeout breaks the broker: another shard's answers say nothing
        of the silent one, and only a reconnect reloads the slot map after a failover."""
        if not self._cluster and isinstance(exc, TimeoutError | RedisTimeoutError):
            now = time.monotonic()
            if now - self._answered < OP_TIMEOUT:
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

    async def _supervisor(self) -> None:
        """Reconnect after every fault, with exponential backoff and full jitter."""
        while not self._closing:
            await self._broken.wait()
            self._report(False)
            delay = BACKOFF_MIN
            while not self._closing:
                self._broken.clear()
                await self._teardown()
                await asyncio.sleep(random.uniform(0, delay))
                try:
                    async with asyncio.timeout(OP_TIMEOUT * 3):
                        await self._connect()
                except Exception as exc:
                    if not _is_fault(exc):
                        raise
                    self._error = exc
                    delay = min(delay * 2, BACKOFF_MAX)
                    continue
                if not self._broken.is_set():
                    break
            log.info("broker_reconnected", rooms=len(self._rooms))
            self._report(True)

    async def _teardown(self) -> None:
        subscribers, self._subscribers = list(self._subscribers.values()), {}
        links, self._links = list(self._links.values()), {}
        self._link_of.clear()
        for sub in subscribers:
            await sub.close()
        for link in links:
            await link.close()

    async def _connect(self) -> None:
        """(Re)connect: presence first (so no survivor evicts us meanwhile), then every
        local room subscribed, then what was missed replayed. Publishing resumes once
        subscribed; live traffic of a room waits while its gap is filled."""
        client = self._client
        assert client is not None
        if isinstance(client, RedisCluster):
            await client.initialize()
        await client.ping()
        self._answered = time.monotonic()
        await self._heartbeat(repair=True)
        for room in self._rooms.values():
            self._recovering.setdefault(room, [])
        await self._subscribe_channels(list(self._rooms.items()))
        self._healthy = True
        for room in list(self._recovering):
            await self._fill(room)

    # ------------------------------------------------------------------ publishing

    async def publish(self, room: str, payload: bytes, *, sequenced: bool) -> int:
        if not self._healthy:
            raise self._unavailable("publish") from self._error
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queue.append((room, payload, sequenced, future))
        self._wake.set()
        return await future

    async def publish_once(
        self, room: str, payload: bytes, marker: bytes
    ) -> tuple[int, bytes | None]:
        """Rare (a message sent again after a lost connection), so it takes the command
        client, not the publish pipeline: order between senders does not matter, and the
        script's sequence numbers keep every node's delivery order."""
        client = self._client
        assert client is not None
        publish = "SPUBLISH" if self._cluster else "PUBLISH"
        args = [
            self._channel(room), payload, int(self._clock() * 1000),
            self._history_size, self._history_ms, publish, marker,
        ]  # fmt: skip
        keys = [self._key(room, "seq"), self._key(room, "hist")]
        reply = await self._op("publish", lambda: self._eval(lua.PUBLISH_ONCE, keys, args))
        if len(reply) > 1:
            return int(reply[0]), bytes(reply[1])
        self._published += 1
        return int(reply[0]), None

    def _fail_queue(self, exc: BrokerError) -> None:
        queue, self._queue = self._queue, []
        for *_, future in queue:
            if not future.done():
                future.set_exception(exc)

    async def _publisher(self) -> None:
        """The one task that writes publishes: each wake-up drains the queue in batches,
        one pipelined round trip per shard per batch.

        While a batch is in flight the next one gathers (at most :data:`MAX_INFLIGHT`
        batches outstanding): a socket write to Redis costs about as much as relaying
        the message, so under load one write carries many publishes, and when idle a
        message still goes out in the event-loop turn after it was said."""
        while not self._closing:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                if self._inflight >= MAX_INFLIGHT:
                    self._landed.clear()
                    await self._landed.wait()
                    continue
                if len(self._queue) <= MAX_BATCH:
                    batch, self._queue = self._queue, []
                else:
                    batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                await self._flush(batch)

    async def _flush(self, batch: list[Pending]) -> None:
        """Write one batch and hand its replies to a completion task: the publisher goes
        on writing the next batch at once."""
        if not self._healthy:
            self._fail_batch(batch, self._error)
            return
        try:
            async with asyncio.timeout(OP_TIMEOUT):
                sent = await self._write(batch)
        except Exception as exc:
            if not _is_fault(exc):
                raise
            self._fault(exc, "publish")
            self._fail_batch(batch, exc)
            return
        self._inflight += 1
        task = asyncio.get_running_loop().create_task(self._complete(batch, sent))
        self._tasks.add(task)
        task.add_done_callback(self._landing)

    def _landing(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._inflight -= 1
        self._landed.set()

    def _fail_batch(self, batch: list[Pending], cause: BaseException | None) -> None:
        error = self._unavailable("publish")
        error.__cause__ = cause
        for *_, future in batch:
            if not future.done():
                future.set_exception(error)

    async def _write(self, batch: list[Pending]) -> list[Sent]:
        groups: dict[Link, list[int]] = {}
        for index, (room, *_) in enumerate(batch):
            groups.setdefault(self._link(room), []).append(index)
        sent = []
        for link, indexes in groups.items():
            commands = [self._command(*batch[i][:3], eval_=False) for i in indexes]
            sent.append((link, indexes, await link.submit(commands)))
        return sent

    async def _complete(self, batch: list[Pending], sent: list[Sent]) -> None:
        try:
            async with asyncio.timeout(OP_TIMEOUT):
                results = await self._replies(batch, sent)
        except asyncio.CancelledError:
            self._fail_batch(batch, None)
            raise
        except Exception as exc:
            if not _is_fault(exc):
                raise
            self._fault(exc, "publish")
            self._fail_batch(batch, exc)
            return
        self._answered = time.monotonic()
        self._published += len(batch)
        for (_, _, sequenced, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                failure = BrokerError("publish")
                if _is_fault(result):  # MOVED, CLUSTERDOWN...: reload the slot map
                    failure = self._unavailable("publish")
                    self._broke(result)
                failure.__cause__ = result
                future.set_exception(failure)
            else:
                future.set_result(int(result) if sequenced else 0)

    def _command(self, room: str, payload: bytes, sequenced: bool, *, eval_: bool) -> bytes:
        """One publish in RESP. The arguments before the payload depend only on the room,
        so they are encoded once per room: redis-py's general encoder cost a node more than
        Redis took to run the script."""
        heads = self._eval_heads if eval_ else self._heads
        head = heads.get((room, sequenced))
        if head is None:
            if len(heads) >= MAX_CACHED_HEADS:
                heads.clear()
            head = heads[(room, sequenced)] = self._head(room, sequenced, eval_)
        if not sequenced:
            return head + bulk(ZERO_HEADER + payload)
        return head + bulk(payload) + bulk(b"%d" % int(self._clock() * 1000)) + self._tail

    def _head(self, room: str, sequenced: bool, eval_: bool) -> bytes:
        publish = b"SPUBLISH" if self._cluster else b"PUBLISH"
        channel = self._channel(room)
        if not sequenced:
            return b"*3\r\n" + bulk(publish) + bulk(channel)
        script = (
            (b"EVAL", lua.PUBLISH.source.encode())
            if eval_
            else (b"EVALSHA", lua.PUBLISH.sha.encode())
        )
        keys = (self._key(room, "seq").encode(), self._key(room, "hist").encode())
        return b"*11\r\n" + b"".join(map(bulk, (*script, b"2", *keys, channel)))

    def _link(self, room: str) -> Link:
        name = self._link_of.get(room)
        if name is None:
            name, factory = self._raw(self._key(room, "seq"))
            if len(self._link_of) >= MAX_CACHED_HEADS:
                self._link_of.clear()
            self._link_of[room] = name
            if name not in self._links:
                self._links[name] = Link(factory)
        return self._links[name]

    async def _replies(self, batch: list[Pending], sent: list[Sent]) -> list[Any]:
        results: list[Any] = [None] * len(batch)
        for link, indexes, future in sent:
            replies = await future
            retry = [
                i for i, r in zip(indexes, replies, strict=True) if isinstance(r, NoScriptError)
            ]
            if retry:  # Redis restarted or flushed its script cache: send the source once
                commands = [self._command(*batch[i][:3], eval_=True) for i in retry]
                again = await (await link.submit(commands))
                replies = list(replies)
                for i, reply in zip(retry, again, strict=True):
                    replies[indexes.index(i)] = reply
            for i, reply in zip(indexes, replies, strict=True):
                results[i] = reply
        return results

    # ------------------------------------------------------------------ subscribing

    async def subscribe(self, room: str) -> None:
        """Subscribe and wait for Redis to confirm, then take the room's current sequence
        as the baseline: this node had no member there, so nothing before it is owed."""
        self._check("subscribe")
        channel = self._channel(room)
        self._rooms[channel] = room
        self._last.pop(room, None)
        try:
            async with asyncio.timeout(OP_TIMEOUT):
                await self._subscribe_channel(room, channel)
        except BaseException as exc:
            self._rooms.pop(channel, None)
            if isinstance(exc, Exception) and _is_fault(exc):
                self._broke(exc)
                raise self._unavailable("subscribe") from exc
            raise
        try:
            keys = [self._key(room, "seq"), self._key(room, "flags")]
            view = await self._op("subscribe", lambda: self._eval(lua.ROOM_VIEW, keys, []))
        except BaseException:
            # subscribed, but without a baseline: leave the channel again (the broker
            # may still be up: a slow call fails alone)
            with contextlib.suppress(Exception):
                await self.unsubscribe(room)
            self._rooms.pop(channel, None)
            raise
        base = int(view[0])
        self._last[room] = max(self._last.get(room, 0), base)
        # read after the subscription was confirmed: the hub asks for them next
        self._fresh_flags[room] = _flag_map(view[1:])

    async def unsubscribe(self, room: str) -> None:
        channel = self._channel(room)
        if self._rooms.pop(channel, None) is None:
            return
        self._last.pop(room, None)
        self._recovering.pop(room, None)
        self._fresh_flags.pop(room, None)
        self._link_of.pop(room, None)
        for sequenced in (True, False):
            self._heads.pop((room, sequenced), None)
            self._eval_heads.pop((room, sequenced), None)
        sub = self._subscribers.get(self._raw(self._key(room, "seq"))[0])
        if sub is None or not self._healthy:
            return
        sub.leaving[channel] = sub.leaving.get(channel, 0) + 1
        try:
            async with asyncio.timeout(OP_TIMEOUT):
                await sub.conn.send_command(sub.unsub, channel, check_health=False)
        except Exception as exc:
            if not _is_fault(exc):
                raise
            self._broke(exc)  # resubscribing after the fault leaves this room out

    async def _subscriber(self, key: str) -> Subscriber:
        name, factory = self._raw(key)
        sub = self._subscribers.get(name)
        if sub is None:
            conn = factory()
            sub = Subscriber(conn, self._cluster)
            self._subscribers[name] = sub
            await conn.connect()  # type: ignore[no-untyped-call]
            sub.task = asyncio.get_running_loop().create_task(self._read(sub))
        return sub

    async def _subscribe_channel(self, room: str, channel: bytes) -> None:
        await self._subscribe_channels([(channel, room)])

    async def _subscribe_channels(self, channels: Sequence[tuple[bytes, str]]) -> None:
        """Subscribe many rooms in one write per shard (a reconnect resubscribes them all)
        and wait until Redis confirmed each one."""
        loop = asyncio.get_running_loop()
        writes: dict[Subscriber, list[list[Any]]] = {}
        waiters: list[asyncio.Future[None]] = []
        for channel, room in channels:
            sub = await self._subscriber(self._key(room, "seq"))
            waiter: asyncio.Future[None] = loop.create_future()
            sub.waiters.setdefault(channel, deque()).append(waiter)
            waiters.append(waiter)
            writes.setdefault(sub, []).append([sub.sub, channel])
        for sub, commands in writes.items():
            await sub.conn.send_packed_command(sub.conn.pack_commands(commands), check_health=False)
        if waiters:
            await asyncio.gather(*waiters)

    async def _read(self, sub: Subscriber) -> None:
        """The subscriber's reader: the other hot path. Decode the fixed header, deliver."""
        read = sub.conn.read_response
        rooms = self._rooms
        receive = self._receive
        clock = time.monotonic
        try:
            while True:
                reply = await read(timeout=math.inf)
                self._answered = clock()
                kind = reply[0]
                if kind == b"message" or kind == b"smessage":
                    room = rooms.get(reply[1])
                    if room is not None:
                        data = reply[2]
                        receive(room, int(data[:SEQ]), data[SEQ:])
                elif kind == b"subscribe" or kind == b"ssubscribe":
                    waiters = sub.waiters.get(reply[1])
                    if waiters:
                        waiter = waiters.popleft()
                        if not waiter.done():
                            waiter.set_result(None)
                elif kind == b"unsubscribe" or kind == b"sunsubscribe":
                    channel = reply[1]
                    pending = sub.leaving.get(channel, 0)
                    if pending > 1:
                        sub.leaving[channel] = pending - 1
                    elif pending == 1:
                        del sub.leaving[channel]
                    elif channel in rooms:  # the server dropped us: the slot moved
                        raise ConnectionResetError("shard channel unsubscribed by the server")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            for waiters in sub.waiters.values():
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_exception(exc)
            self._broke(exc)

    def _receive(self, room: str, seq: int, payload: bytes) -> None:
        """Deliver in sequence order, never twice; a gap is filled from the history."""
        if seq:
            parked = self._recovering.get(room)
            if parked is not None:
                parked.append((seq, payload))
                return
            last = self._last.get(room, 0)
            if seq <= last:
                return
            if last and seq != last + 1:
                self._recovering[room] = [(seq, payload)]
                task = asyncio.get_running_loop().create_task(self._fill_later(room))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                return
            self._last[room] = seq
        self._delivered += 1
        assert self._deliver is not None
        self._deliver(room, seq, payload)

    async def _fill_later(self, room: str) -> None:
        try:
            await self._fill(room)
        except Exception as exc:
            if not _is_fault(exc):
                raise
            self._broke(exc)  # the reconnect fills it again

    async def _fill(self, room: str) -> None:
        """Deliver what ``room`` missed from its history, then what was parked meanwhile."""
        if room not in self._recovering:
            return
        last = self._last.get(room, 0)
        entries = await self.history(room, last)
        parked = self._recovering.pop(room, [])
        if self._channel(room) not in self._rooms:
            return
        deliver = self._deliver
        assert deliver is not None
        for seq, payload in [(e.seq, e.payload) for e in entries] + sorted(parked):
            if seq > last:
                last = self._last[room] = seq
                self._delivered += 1
                deliver(room, seq, payload)

    # ------------------------------------------------------------------ room state

    async def _op(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """Run one command-client operation within its deadline; translate errors."""
        self._check(what)
        try:
            async with asyncio.timeout(OP_TIMEOUT), self._slots:
                result = await call()
        except Exception as exc:
            if _is_fault(exc):
                self._fault(exc, what)
                raise self._unavailable(what) from exc
            if isinstance(exc, RedisError | RedisClusterException):
                raise BrokerError(f"redis: {what} failed") from exc
            raise
        self._answered = time.monotonic()
        return result

    async def _eval(self, script: lua.Script, keys: Sequence[str], args: Sequence[Any]) -> Any:
        client = self._client
        assert client is not None
        try:
            return await client.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await client.execute_command("EVAL", script.source, len(keys), *keys, *args)

    def _room_keys(self, room: str) -> list[str]:
        return [self._key(room, what) for what in ("members", "seq", "hist", "flags")]

    async def history(self, room: str, after: int) -> list[Entry]:
        client = self._client
        assert client is not None
        raw: list[bytes] = await self._op(
            "history", lambda: client.execute_command("LRANGE", self._key(room, "hist"), 0, -1)
        )
        horizon = int(self._clock() * 1000) - self._history_ms
        out = []
        for item in raw:
            seq = int(item[lua.TS_DIGITS : TS_SEQ])
            if seq > after and int(item[: lua.TS_DIGITS]) >= horizon:
                out.append(Entry(seq, item[TS_SEQ:]))
        return out

    async def last_seq(self, room: str) -> int:
        client = self._client
        assert client is not None
        value = await self._op(
            "last_seq", lambda: client.execute_command("GET", self._key(room, "seq"))
        )
        return int(value or 0)

    async def members(self, room: str) -> Mapping[str, bytes]:
        client = self._client
        assert client is not None
        raw: dict[bytes, bytes] | list[bytes] = await self._op(
            "members", lambda: client.execute_command("HGETALL", self._key(room, "members"))
        )
        if isinstance(raw, dict):
            return {k.decode(): v for k, v in raw.items()}
        return {raw[i].decode(): raw[i + 1] for i in range(0, len(raw), 2)}

    async def set_flag(self, room: str, name: str, value: int) -> bool:
        keys = [self._key(room, "members"), self._key(room, "flags")]
        done = await self._op("set_flag", lambda: self._eval(lua.SET_FLAG, keys, [name, value]))
        return bool(done)

    async def flags(self, room: str) -> Mapping[str, int]:
        fresh = self._fresh_flags.pop(room, None)
        if fresh is not None:  # read by subscribe() a moment ago, in its round trip
            return fresh
        client = self._client
        assert client is not None
        keys = [self._key(room, "seq"), self._key(room, "flags")]
        raw: list[bytes] = await self._op("flags", lambda: self._eval(lua.ROOM_VIEW, keys, []))
        return _flag_map(raw[1:])

    async def claim(self, room: str, handle: str, member: bytes, *, capacity: int = 0) -> Claim:
        return await self._seat("claim", lua.CLAIM, room, handle, member, capacity)

    async def reclaim(self, room: str, handle: str, member: bytes, session: str) -> Claim:
        return await self._seat("reclaim", lua.RECLAIM, room, handle, member, session)

    async def _seat(
        self, what: str, script: lua.Script, room: str, handle: str, member: bytes, extra: Any
    ) -> Claim:
        """Run a seat script (claim or reclaim) and remember a won seat for re-assertion."""
        client = self._client
        assert client is not None

        async def call() -> Any:
            # the room is listed first, so the list is a superset of where our members are
            await client.execute_command("SADD", self._node_key(self.node_id, "rooms"), room)
            return await self._eval(script, [self._key(room, "members")], [handle, member, extra])

        outcome = CLAIMS[int(await self._op(what, call))]
        if outcome is Claim.OK:
            self._claims.setdefault(room, {})[handle] = member
        return outcome

    async def release(self, room: str, handle: str) -> bool:
        client = self._client
        assert client is not None
        claims = self._claims.get(room)
        if claims is not None:
            claims.pop(handle, None)
            if not claims:
                del self._claims[room]
        try:
            closed = await self._op(
                "release", lambda: self._eval(lua.RELEASE, self._room_keys(room), [handle])
            )
        except BrokerUnavailable:
            self._unreleased.add((room, handle))  # done after reconnecting
            raise
        return bool(closed)

    # ------------------------------------------------------------------ presence

    async def _presence(self) -> None:
        """Heartbeat this node's key and evict the members of nodes whose key expired.

        The key lives ``ttl / 2`` and is refreshed every ``ttl / 4``; sweeps run as often,
        so a dead node's members go within ``0.75 * ttl`` plus one sweep's work."""
        period = self._ttl / 4
        while not self._closing:
            await asyncio.sleep(period)
            if not self._healthy:
                continue
            try:
                async with asyncio.timeout(max(OP_TIMEOUT, period)):
                    await self._heartbeat(repair=False)
                    await self._sweep()
            except Exception as exc:
                if not _is_fault(exc):
                    raise
                self._fault(exc, "presence")

    async def _heartbeat(self, *, repair: bool) -> None:
        """Refresh ``node:{id}``. When it had expired (or Redis lost it), put back this
        node's members and sequences, and finish releases that failed while down."""
        client = self._client
        assert client is not None
        key = self._node_key(self.node_id)
        ms = max(int(self._ttl * 500), 100)
        previous = await client.execute_command("SET", key, b"1", "PX", ms, "GET")
        await client.execute_command("SADD", f"{self._prefix}:nodes", self.node_id)
        if previous is not None and not repair:
            return
        rooms = set(self._claims) | set(self._last)
        for room in rooms:
            pairs = [x for h, m in self._claims.get(room, {}).items() for x in (h, m)]
            if pairs:
                await client.execute_command("SADD", self._node_key(self.node_id, "rooms"), room)
            await self._eval(
                lua.REPAIR,
                [self._key(room, "seq"), self._key(room, "members")],
                [self._last.get(room, 0), *pairs],
            )
        for room, handle in list(self._unreleased):
            await self._eval(lua.RELEASE, self._room_keys(room), [handle])
            self._unreleased.discard((room, handle))

    async def _sweep(self) -> None:
        client = self._client
        assert client is not None
        nodes_key = f"{self._prefix}:nodes"
        for raw in await client.execute_command("SMEMBERS", nodes_key):
            node = raw.decode()
            if node == self.node_id:
                continue
            if await client.execute_command("EXISTS", self._node_key(node)):
                continue
            await self._evict_node(node)
            await client.execute_command("DEL", self._node_key(node, "rooms"))
            await client.execute_command("SREM", nodes_key, node)

    async def _evict_node(self, node: str) -> None:
        client = self._client
        assert client is not None
        rooms = await client.execute_command("SMEMBERS", self._node_key(node, "rooms"))
        for raw in rooms:
            room = raw.decode()
            out = await self._eval(lua.EVICT, self._room_keys(room), [node])
            closed, pairs = int(out[0]), out[1:]
            log.info("evicted", node=node, room=room, members=len(pairs) // 2, closed=bool(closed))
            if closed or self._on_evict is None:
                continue
            for i in range(0, len(pairs), 2):
                try:
                    await self._on_evict(room, pairs[i].decode(), pairs[i + 1])
                except BrokerError:
                    log.warning("evicted_leave_unrelayed", room=room)
