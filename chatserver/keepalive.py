"""Idle connections, cheaply: one node-level pinger instead of a keepalive task per
connection, and the handshake's headers dropped once read (:func:`forget_handshake`).

websockets pings each connection from a task of its own (``ping_interval``): a task, its
coroutine frame and a timer per idle person, about 1.6 KiB each (issue 17's tracemalloc
of a node). This module's one task does the same for every connection: each interval it
walks the open connections in slices spread over the interval (so 50,000 pings do not
land in one loop turn), pings each, and aborts a connection whose previous ping went
unanswered for ``timeout`` seconds (a dead phone network: the session then waits for a
resume, as for any dropped socket).

A ping is written at once (websockets' sans-I/O ``send_ping``, then ``send_data``), and
its pong is recognised by its payload in websockets' ``pending_pings``, the table its own
``ping()`` fills: only the pings of one round are waiting at any time.
"""

from __future__ import annotations

import asyncio
import random
import struct
from collections.abc import Callable, Collection
from typing import Any

import structlog
from websockets.protocol import State

log = structlog.get_logger("chatserver.keepalive")

#: Connections pinged per slice; slices are spread evenly over the interval.
SLICE = 256


def forget_handshake(ws: Any) -> None:
    """Empty the handshake's request and response headers (about 3 KiB a connection)
    once the node has read what it keeps (the client's address, its language). In place:
    websockets keeps the two objects for the connection's life (its parser's frame holds
    the request, and ``request`` being set is how it tells frames from the handshake)."""
    for message in (ws.request, ws.response):
        if message is not None:
            message.headers.clear()


def ping(ws: Any) -> bytes | None:
    """Send one ping on ``ws`` now; its payload, or None when the connection is not open."""
    if ws.protocol.state is not State.OPEN:
        return None
    data = struct.pack("!I", random.getrandbits(32))
    while data in ws.pending_pings:
        data = struct.pack("!I", random.getrandbits(32))
    loop = asyncio.get_running_loop()
    ws.pending_pings[data] = (loop.create_future(), loop.time())
    ws.protocol.send_ping(data)
    ws.send_data()
    return data


def answered(ws: Any, data: bytes) -> bool:
    """Whether the pong of the ping ``data`` came (websockets drops it from the table)."""
    return data not in ws.pending_pings


async def keep_alive(connections: Callable[[], Collection[Any]], interval: float) -> None:
    """Ping every connection each ``interval`` seconds (0: never), for ever; a pong
    that takes longer than the interval drops the connection."""
    if interval > 0:
        await Pinger(connections, interval, interval).run()


class Pinger:
    """Pings every connection ``connections()`` returns (see the module docstring)."""

    def __init__(
        self, connections: Callable[[], Collection[Any]], interval: float, timeout: float
    ) -> None:
        self._connections = connections
        self._interval = interval
        self._timeout = timeout
        #: connection -> (payload, loop time) of its ping still waiting for a pong
        self._waiting: dict[Any, tuple[bytes, float]] = {}
        self.pings = 0
        self.aborted = 0

    async def run(self) -> None:
        """Ping for ever, one round per interval."""
        while True:
            await self.round()

    async def round(self) -> None:
        """One interval: every open connection checked and pinged once."""
        todo = list(self._connections())
        slices = max(1, -(-len(todo) // SLICE))
        pause = self._interval / slices
        for start in range(0, max(len(todo), 1), SLICE):
            self._slice(todo[start : start + SLICE])
            await asyncio.sleep(pause)
        live = set(todo)
        for ws in [ws for ws in self._waiting if ws not in live]:
            del self._waiting[ws]  # closed meanwhile

    def _slice(self, connections: list[Any]) -> None:
        now = asyncio.get_running_loop().time()
        for ws in connections:
            waiting = self._waiting.pop(ws, None)
            if waiting is not None and not answered(ws, waiting[0]):
                if now - waiting[1] >= self._timeout:
                    self._abort(ws)
                    continue
                self._waiting[ws] = waiting  # not late yet: no second ping meanwhile
                continue
            try:
                data = ping(ws)
            except Exception as exc:  # one broken socket spares the rest
                log.warning("keepalive_ping_failed", error=type(exc).__name__)
                continue
            if data is not None:
                self.pings += 1
                self._waiting[ws] = (data, now)

    def _abort(self, ws: Any) -> None:
        self.aborted += 1
        log.info("keepalive_timeout")
        ws.transport.abort()  # connection_lost ends the handler: a dropped socket
