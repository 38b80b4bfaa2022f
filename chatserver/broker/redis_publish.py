"""The relay's sending half: one publisher task drains every pending publish into one
pipelined write per shard (the hot path costs one round trip per batch, not per message).

Every ``publish()`` waits with a deadline. Each batch of the queue arms one timer (not one
per message: the hot path stays as cheap as it was); when it fires, whatever that batch
still waits for fails with :class:`BrokerUnavailable`. So a publisher that died, or a
reply that never came, can slow a ``say`` by the deadline, never hang it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from redis.exceptions import NoScriptError

from chatserver.broker import lua
from chatserver.broker.base import BrokerError, BrokerUnavailable
from chatserver.broker.redis_core import RedisCore, is_fault, log
from chatserver.broker.redis_wire import Link, bulk

#: Most publishes written in one pipelined batch.
MAX_BATCH = 512
#: Rooms whose shard and encoded publish head are kept (caches; cleared when full).
MAX_CACHED_HEADS = 4096
#: Batches written whose replies have not all arrived. While this many are in flight, new
#: publishes gather into the next batch instead of costing a socket write each.
MAX_INFLIGHT = 1
#: A publish waits at most this many operation deadlines: one for the batch before it to
#: land, one to write, one for the reply.
DEADLINES_PER_PUBLISH = 3
ZERO_HEADER = b"0" * lua.SEQ_DIGITS

Pending = tuple[str, bytes, bool, "asyncio.Future[int]"]
#: A batch's commands written on one link: (link, indexes in the batch, replies to come).
Sent = tuple[Link, list[int], "asyncio.Future[list[Any]]"]


def _expire(batch: list[Pending]) -> None:
    """The deadline of ``batch`` ran out: fail what it still waits for."""
    late = 0
    for *_, future in batch:
        if not future.done():
            late += 1
            future.set_exception(BrokerUnavailable("redis unavailable: publish timed out"))
    if late:
        log.warning("publish_deadline_missed", count=late)


class RedisPublish(RedisCore):
    """Publishing (see the module docstring)."""

    def _init_publish(self) -> None:
        self._queue: list[Pending] = []
        self._armed: list[Pending] | None = None  # the queue list the current timer covers
        self._timer: asyncio.TimerHandle | None = None
        self._batch: list[Pending] = []  # being written by the publisher
        self._wake = asyncio.Event()
        self._inflight = 0
        self._landed = asyncio.Event()
        self._links: dict[str, Link] = {}
        self._link_of: dict[str, str] = {}
        self._heads: dict[tuple[str, bool], bytes] = {}
        self._eval_heads: dict[tuple[str, bool], bytes] = {}
        publish = b"SPUBLISH" if self._cluster else b"PUBLISH"
        self._tail = b"".join(
            map(
                bulk,
                (b"%d" % self._history_size, b"%d" % self._history_ms, publish,
                 b"%d" % self._seq_ms),
            )
        )  # fmt: skip

    async def publish(self, room: str, payload: bytes, *, sequenced: bool) -> int:
        if not self._healthy:
            raise self._unavailable("publish") from self._error
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        queue = self._queue
        queue.append((room, payload, sequenced, future))
        if self._armed is not queue:  # the first of a new batch: one timer for them all
            self._armed = queue
            limit = self._deadline * DEADLINES_PER_PUBLISH
            self._timer = loop.call_later(limit, _expire, queue)
        self._wake.set()
        return await future

    async def publish_once(
        self, room: str, payload: bytes, marker: bytes
    ) -> tuple[int, bytes | None]:
        """Rare (a message sent again after a lost connection), so it takes the command
        client, not the publish pipeline: order between senders does not matter, and the
        script's sequence numbers keep every node's delivery order."""
        publish = "SPUBLISH" if self._cluster else "PUBLISH"
        args = [
            self._channel(room), payload, int(self._clock() * 1000),
            self._history_size, self._history_ms, publish, self._seq_ms, marker,
        ]  # fmt: skip
        keys = [self._key(room, "seq"), self._key(room, "hist")]
        reply = await self._op("publish", lambda: self._eval(lua.PUBLISH_ONCE, keys, args))
        if len(reply) > 1:
            return int(reply[0]), bytes(reply[1])
        self._published += 1
        return int(reply[0]), None

    def _fail_queue(self, exc: BrokerError) -> None:
        """Fail every publish not yet written and the batch being written."""
        queue, self._queue = self._queue, []
        batch, self._batch = self._batch, []
        for *_, future in batch + queue:
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
                    await self._landed.wait()  # bounded: a batch's replies have a deadline
                    continue
                timer = None
                if len(self._queue) <= MAX_BATCH:
                    if self._armed is self._queue:  # the batch owns its timer
                        timer, self._timer, self._armed = self._timer, None, None
                    batch, self._queue = self._queue, []
                else:  # the timer still covers the whole old list, both halves
                    batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                self._batch = batch
                await self._flush(batch, timer)
                self._batch = []

    async def _flush(self, batch: list[Pending], timer: asyncio.TimerHandle | None) -> None:
        """Write one batch and hand its replies to a completion task: the publisher goes
        on writing the next batch at once."""
        if not self._healthy:
            self._fail_batch(batch, self._error, timer)
            return
        try:
            async with asyncio.timeout(self._deadline):
                sent = await self._write(batch)
        except Exception as exc:
            if not is_fault(exc):
                raise
            self._fault(exc, "publish")
            self._fail_batch(batch, exc, timer)
            return
        self._inflight += 1
        task = self._tasks.spawn("replies", self._complete(batch, sent, timer))
        task.add_done_callback(self._landing)

    def _landing(self, task: asyncio.Task[None]) -> None:
        self._inflight -= 1
        self._landed.set()

    def _fail_batch(
        self,
        batch: list[Pending],
        cause: BaseException | None,
        timer: asyncio.TimerHandle | None = None,
    ) -> None:
        if timer is not None:
            timer.cancel()
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

    async def _complete(
        self, batch: list[Pending], sent: list[Sent], timer: asyncio.TimerHandle | None
    ) -> None:
        try:
            async with asyncio.timeout(self._deadline):
                results = await self._replies(batch, sent)
        except BaseException as exc:
            self._fail_batch(batch, exc if isinstance(exc, Exception) else None, timer)
            if isinstance(exc, Exception) and is_fault(exc):
                self._fault(exc, "publish")
                return
            raise
        if timer is not None:
            timer.cancel()
        self._tasks.ran_well("publisher")
        self._answered = time.monotonic()
        self._published += len(batch)
        for (_, _, sequenced, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                failure = BrokerError("publish")
                if is_fault(result):  # MOVED, CLUSTERDOWN...: reload the slot map
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
        return b"*12\r\n" + b"".join(map(bulk, (*script, b"2", *keys, channel)))

    def _link(self, room: str) -> Link:
        name = self._link_of.get(room)
        if name is None:
            name, factory = self._raw(self._key(room, "seq"))
            if len(self._link_of) >= MAX_CACHED_HEADS:
                self._link_of.clear()
            self._link_of[room] = name
            if name not in self._links:
                self._links[name] = Link(factory, self._tasks.spawn)
        return self._links[name]

    def _forget_room(self, room: str) -> None:
        """Drop the cached shard and heads of a room this node left."""
        self._link_of.pop(room, None)
        for sequenced in (True, False):
            self._heads.pop((room, sequenced), None)
            self._eval_heads.pop((room, sequenced), None)

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
