"""The only code that awaits on a client socket: frames in -> chat, with limits.

Per frame: rate limit, decode (protocol errors become error frames), then the routing
table (:meth:`chatserver.routing.Router.handle`). Frames of one connection are handled
one at a time, so a sender's messages keep their order. Whatever happens, ``finally``
hands the session back to the chat, which keeps the seats for resume or frees them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import structlog
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from chatserver.chat import Chat
from chatserver.config import Settings
from chatserver.limits import AddressCounter, TokenBucket
from chatserver.observability import Metrics
from chatserver.routing import Router
from chatserver.session import Session
from protocol import (
    CODECS,
    JSON,
    ClientFrame,
    CloseCode,
    Codec,
    ErrorCode,
    ProtocolError,
    decode_client,
)

log = structlog.get_logger("chatserver.connection")

#: Bad frames in a row before the connection is closed with TOO_MANY_ERRORS.
MAX_BAD_FRAMES = 10
#: Rate-limited frames in a row before the connection is closed with RATE_LIMIT.
MAX_RATE_STRIKES = 50
RATE_TEXT = "You're sending messages very quickly. Please wait a moment and try again."
INTERNAL_TEXT = "Something went wrong on our side and that didn't go through. Please try again."


class _Closed(Exception):  # noqa: N818 - a signal inside the read loop
    """The connection was closed by a limit; stop reading."""


def client_address(ws: Any, trust_forwarded_for: bool = False) -> str:
    """The peer's address, for the per-address limit only. Never log or store it.

    Behind our own proxy every peer is the proxy, so the proxy's X-Forwarded-For (its last
    entry: the hop the proxy itself saw) names the client instead."""
    if trust_forwarded_for:
        request = getattr(ws, "request", None)
        forwarded = request.headers.get("X-Forwarded-For") if request is not None else None
        if forwarded:
            return str(forwarded).rsplit(",", 1)[-1].strip()
    remote = getattr(ws, "remote_address", None)
    return str(remote[0]) if remote else "?"


class ConnectionHandler:
    def __init__(
        self,
        chat: Chat,
        router: Router,
        settings: Settings,
        metrics: Metrics,
        addresses: AddressCounter,
    ) -> None:
        self.chat = chat
        self.router = router
        self.settings = settings
        self.metrics = metrics
        self.addresses = addresses
        self.last_rx: dict[ServerConnection, float] = {}
        #: frame type -> its counter child: ``labels()`` takes a lock and hashes on each call
        self._frames_in: dict[str, Any] = {}

    def _count_frame(self, kind: str) -> None:
        child = self._frames_in.get(kind)
        if child is None:
            child = self._frames_in[kind] = self.metrics.frames_in.labels(kind)
        child.inc()

    async def __call__(self, ws: ServerConnection) -> None:
        codec = CODECS.get(ws.subprotocol or "", JSON)
        address = client_address(ws, self.settings.trust_forwarded_for)
        self.addresses.opened(address)
        self.metrics.connections.inc()
        self.metrics.connections_total.inc()
        session = self.chat.open(ws, codec, address)
        reader = _Reader(self, ws, session, codec)
        self.last_rx[ws] = time.monotonic()
        try:
            async for data in ws:
                self.last_rx[ws] = time.monotonic()
                await reader.receive(data)
        except (ConnectionClosed, _Closed):
            pass
        finally:
            self.last_rx.pop(ws, None)
            self.addresses.closed(address)
            self.metrics.connections.dec()
            rcvd = ws.protocol.close_rcvd
            clean = rcvd is not None and rcvd.code == CloseCode.NORMAL
            await self.chat.disconnected(reader.session, ws, clean=clean)

    async def close(self, ws: ServerConnection, code: CloseCode, reason: str) -> None:
        """Close an abusive connection. Frames it already sent are read and dropped while
        the closing handshake runs: otherwise a full receive queue would stop us reading
        its close reply, and the handshake would hang until the close timeout."""
        self.metrics.closes.labels(str(int(code))).inc()

        async def discard() -> None:
            with contextlib.suppress(ConnectionClosed):
                async for _ in ws:
                    pass

        async with asyncio.TaskGroup() as tg:
            tg.create_task(ws.close(int(code), reason))
            tg.create_task(discard())

    def idle(self, now: float, timeout: float) -> list[ServerConnection]:
        """Sockets that have joined nothing and sent nothing for ``timeout`` seconds."""
        stale = [ws for ws, last in self.last_rx.items() if now - last > timeout]
        if not stale:
            return []
        busy = {id(s.ws) for s in self.chat.sessions if s.rooms}
        return [ws for ws in stale if id(ws) not in busy]


class _Reader:
    """One connection's frames, one at a time: rate limit, decode, route. Counts the
    strikes that close an abusive connection."""

    def __init__(
        self, handler: ConnectionHandler, ws: ServerConnection, session: Session, codec: Codec
    ) -> None:
        self.handler = handler
        self.codec = codec
        self.router = handler.router
        self.ws = ws
        self.session = session
        self.bucket = TokenBucket(handler.settings.rate_per_second, handler.settings.rate_burst)
        self.bad = 0
        self.strikes = 0

    async def receive(self, data: str | bytes) -> None:
        session = self.session
        if session.ws is not self.ws:
            # the session was resumed on another socket (here or on another node), or its
            # sign-in taken over: this socket can never speak for it again; it is closed
            raise _Closed
        try:
            frame: ClientFrame | None = decode_client(data, self.codec)
            error: ProtocolError | None = None
        except ProtocolError as exc:
            frame, error = None, exc
        if not self.bucket.take():
            self.strikes += 1
            if self.strikes >= MAX_RATE_STRIKES:
                await self._close(CloseCode.RATE_LIMIT, "rate limit")
            retry = int(self.bucket.retry_after() * 1000) + 1
            ref = getattr(frame, "ref", None) if error is None else error.ref
            self.router.fail(session, ErrorCode.RATE_LIMITED, RATE_TEXT, ref, retry)
            return
        self.strikes = 0
        if error is not None:
            self.bad += 1
            self.handler._count_frame("invalid")
            self.router.fail(session, error.code, error.message, error.ref)
            if self.bad >= MAX_BAD_FRAMES:
                await self._close(CloseCode.TOO_MANY_ERRORS, "too many bad frames")
            return
        assert frame is not None
        self.bad = 0
        self.handler._count_frame(frame.TYPE)
        try:
            self.session = await self.router.handle(session, frame)
        except Exception:
            log.exception("handler_failed", session=session.id, frame=frame.TYPE)
            ref = getattr(frame, "ref", None)
            self.router.fail(session, ErrorCode.INTERNAL, INTERNAL_TEXT, ref)

    async def _close(self, code: CloseCode, reason: str) -> None:
        await self.handler.close(self.ws, code, reason)
        raise _Closed
