"""The raw connections of the Redis broker, below redis-py's client: a pipelined publisher
link, a subscriber connection, and the RESP encoding the broker writes on them itself.

Why raw: the hot path writes many publishes in one socket write and reads their replies
as they come, without the client's per-command bookkeeping (connection pool, retries,
encoder). redis-py still makes and authenticates the connections and parses the replies
(with hiredis when installed).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from redis.asyncio.connection import AbstractConnection as Connection
from redis.exceptions import ResponseError

#: How long closing a connection's reader task may take.
CLOSE_TIMEOUT = 2.0

#: Starts a child task under the broker's supervisor: (name, coroutine) -> task.
Spawn = Callable[[str, Coroutine[Any, Any, Any]], "asyncio.Task[Any]"]


def bulk(arg: bytes) -> bytes:
    """One RESP bulk string."""
    return b"$%d\r\n%b\r\n" % (len(arg), arg)


def parse_url(url: str) -> tuple[str, bool]:
    """``redis+cluster://h:p`` -> (``redis://h:p``, True); other URLs are standalone."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.endswith("+cluster"):
        return f"{scheme.removesuffix('+cluster')}://{rest}", True
    return url, False


class Link:
    """One dedicated connection to one server, pipelined without stop-and-wait.

    Writers append a batch to ``inflight`` and write it at once; one reader task reads the
    replies in order and resolves each batch's future. A new batch never waits for the
    replies of the previous one: slow replies (a Lua script per message) would otherwise
    hold every later message back for as many event-loop turns as the batch has replies.
    """

    def __init__(self, factory: Callable[[], Connection], spawn: Spawn) -> None:
        self.conn = factory()
        self._spawn = spawn
        self.inflight: deque[tuple[int, asyncio.Future[list[Any]]]] = deque()
        self.reader: asyncio.Task[None] | None = None

    async def submit(self, commands: Sequence[bytes]) -> asyncio.Future[list[Any]]:
        """Write ``commands`` (each already in RESP, see :func:`bulk`); the future gets
        their replies, error replies in place (the stream stays in step). Appending and
        writing happen with no await in between, so concurrent submitters cannot reorder
        the stream."""
        conn = self.conn
        if not conn.is_connected:
            await conn.connect()  # type: ignore[no-untyped-call]
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Any]] = loop.create_future()
        self.inflight.append((len(commands), future))
        if self.reader is None:
            self.reader = self._spawn("publish-reader", self._read())
        try:
            await conn.send_packed_command(b"".join(commands), check_health=False)
        except BaseException:
            future.cancel()  # the reader fails on the broken connection and skips it
            raise
        return future

    async def _read(self) -> None:
        conn = self.conn
        try:
            while self.inflight:
                count, future = self.inflight[0]
                out: list[Any] = []
                for _ in range(count):
                    try:
                        out.append(await conn.read_response())
                    except ResponseError as exc:
                        out.append(exc)
                self.inflight.popleft()
                if not future.done():
                    future.set_result(out)
        except Exception as exc:
            self._fail(exc)
        finally:
            self.reader = None

    def _fail(self, exc: BaseException) -> None:
        inflight, self.inflight = self.inflight, deque()
        for _, future in inflight:
            if not future.done():
                future.set_exception(exc)

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            await asyncio.wait([self.reader], timeout=CLOSE_TIMEOUT)
        self._fail(ConnectionResetError("publisher connection closed"))
        with contextlib.suppress(Exception):
            await self.conn.disconnect()


class Subscriber:
    """One subscriber connection (one per shard) and its reader task."""

    def __init__(self, conn: Connection, sharded: bool) -> None:
        self.conn = conn
        self.sub, self.unsub = (
            ("SSUBSCRIBE", "SUNSUBSCRIBE")
            if sharded
            else (
                "SUBSCRIBE",
                "UNSUBSCRIBE",
            )
        )
        self.waiters: dict[bytes, deque[asyncio.Future[None]]] = {}
        self.leaving: dict[bytes, int] = {}
        self.task: asyncio.Task[None] | None = None

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            # wait() does not raise the task's outcome, and lets our own cancellation through
            await asyncio.wait([self.task], timeout=CLOSE_TIMEOUT)
        for waiters in self.waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.cancel()
        with contextlib.suppress(Exception):
            await self.conn.disconnect()
