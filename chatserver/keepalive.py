"""Idle connections, cheaply: one node-level pinger instead of a keepalive task per
connection, and the handshake's headers dropped once read (:func:`forget_handshake`).

websockets pings each connection from a task of its own (``ping_interval``): a task, its
coroutine frame and a timer per idle person, about 1.6 KiB each (issue 17's tracemalloc
of a node). This module's one task does the same for every connection: each interval it
walks the open connections in slices spread over the interval (so 50,000 pings do not
land in one loop turn), pings each, and aborts a connection whose previous ping went
unanswered for ``timeout`` seconds (a dead phone network: the session then waits for a
resume, as for any dropped socket).

A ping is written at once (websockets' sans-I/O ``send_ping``, then ``send_data``) and
recorded in websockets' own ``pending_pings``, the table its ``ping()`` fills and a pong
empties: the pinger keeps nothing per connection.
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


def late(ws: Any, now: float, timeout: float) -> bool | None:
    """None when no ping of ``ws`` waits for its pong; else whether the oldest waiting
    one was sent ``timeout`` or more seconds before ``now`` (loop time)."""
    pending = ws.pending_pings
    if not pending:
        return None
    _, sent = next(iter(pending.values()))
    return bool(now - sent >= timeout)


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

    def _slice(self, connections: list[Any]) -> None:
        now = asyncio.get_running_loop().time()
        for ws in connections:
            overdue = late(ws, now, self._timeout)
            if overdue:
                self._abort(ws)
                continue
            if overdue is False:
                continue  # its pong may still come: no second ping meanwhile
            try:
                sent = ping(ws)
            except Exception as exc:  # one broken socket spares the rest
                log.warning("keepalive_ping_failed", error=type(exc).__name__)
                continue
            self.pings += sent is not None

    def _abort(self, ws: Any) -> None:
        self.aborted += 1
        log.info("keepalive_timeout")
        ws.transport.abort()  # connection_lost ends the handler: a dropped socket
