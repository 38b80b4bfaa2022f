"""An async Python client for chatserver: connect, join, say, iterate incoming frames.

    async with ChatClient(url) as chat:
        await chat.join("anxiety")
        await chat.say("anxiety", "hello")
        async for frame in chat:
            ...

Replies to requests (``joined``, ``ack``, ``left``, ``resumed``, errors with a ``ref``) resolve
the awaiting call; every other frame is yielded by iteration. When the connection drops
with a code that invites it (1001, 1006, 1011, 1012, 4503), the client reconnects with
backoff and resumes: same handle and rooms, missed messages delivered once, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import random
import secrets
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from protocol import (
    JSON_SUBPROTOCOL,
    MSGPACK_SUBPROTOCOL,
    ClientFrame,
    ServerFrame,
    decode_server,
    encode,
)
from protocol.codec import CODECS, Codec
from protocol.messages import (
    Ack,
    Error,
    Join,
    Joined,
    Leave,
    Left,
    Message,
    Ping,
    Resume,
    Resumed,
    Say,
    Typing,
    Welcome,
)

RESUMABLE_CODES = frozenset({1001, 1006, 1011, 1012, 4503})


class ChatError(Exception):
    """The server answered a request with an error frame."""

    def __init__(self, frame: Error) -> None:
        super().__init__(f"{frame.code}: {frame.message}")
        self.code = frame.code
        self.frame = frame


class ChatClosed(Exception):
    """The connection is closed and will not come back."""


class ChatClient:
    def __init__(
        self,
        url: str,
        *,
        encoding: str = "json",
        auto_resume: bool = True,
        max_reconnects: int = 10,
        origin: str | None = None,
        fallback_urls: tuple[str, ...] = (),
        resend_unavailable: int = 0,
    ) -> None:
        self.url = url
        #: times :meth:`say` sends a message again by itself (same ``cid``, ``resend``)
        #: after an ``unavailable`` error, waiting ``retry_after`` each time
        self.resend_unavailable = resend_unavailable
        #: other nodes of the same service, tried in turn when reconnecting (a load
        #: balancer does this for browsers; tests and tools name the nodes)
        self.urls = (url, *fallback_urls)
        self._url_index = 0
        self.subprotocol = MSGPACK_SUBPROTOCOL if encoding == "msgpack" else JSON_SUBPROTOCOL
        self.codec: Codec = CODECS[self.subprotocol]
        self.auto_resume = auto_resume
        self.max_reconnects = max_reconnects
        self.origin = origin
        self.welcome: Welcome | None = None
        self.resume_token: str | None = None
        self.last_seq: dict[str, int] = {}
        self.resumes = 0
        self.close_code: int | None = None
        self._ws: ClientConnection | None = None
        self._refs = itertools.count(1)
        self._pending: dict[str, asyncio.Future[ServerFrame]] = {}
        #: says not answered yet, by ref: sent again (``resend``) after a resume, so a
        #: message said as the connection dropped is neither lost nor shown twice
        self._outbox: dict[str, Say] = {}
        self._incoming: asyncio.Queue[ServerFrame | None] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        self._closing = False
        self._connected = asyncio.Event()
        self._resumed = asyncio.Condition()

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> ChatClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _open(self) -> Welcome:
        ws = await connect(
            self.urls[self._url_index % len(self.urls)],
            subprotocols=[self.subprotocol],  # type: ignore[list-item]
            origin=self.origin,  # type: ignore[arg-type]
            max_size=2**20,
            open_timeout=10,
        )
        frame = decode_server(await ws.recv(), self.codec)
        if not isinstance(frame, Welcome):
            await ws.close()
            raise ChatClosed(f"expected welcome, got {frame.TYPE}")
        self._ws = ws
        return frame

    async def connect(self) -> Welcome:
        self.welcome = await self._open()
        self.resume_token = self.welcome.resume_token
        self._connected.set()
        self._reader = asyncio.get_running_loop().create_task(self._read())
        return self.welcome

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self._fail_pending(ChatClosed("closed"))
        self._incoming.put_nowait(None)

    def _fail_pending(self, exc: Exception) -> None:
        self._outbox.clear()
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(exc)
        self._pending.clear()

    async def _read(self) -> None:
        while True:
            ws = self._ws
            assert ws is not None
            try:
                async for data in ws:
                    self._dispatch(decode_server(data, self.codec))
            except ConnectionClosed:
                pass
            rcvd = ws.protocol.close_rcvd
            self.close_code = rcvd.code if rcvd is not None else 1006
            if self._closing or not self.auto_resume or self.close_code not in RESUMABLE_CODES:
                break
            self._connected.clear()
            if not await self._reconnect():
                break
        self._fail_pending(ChatClosed(f"connection closed ({self.close_code})"))
        self._incoming.put_nowait(None)

    async def _reconnect(self) -> bool:
        delay = 0.05
        for attempt in range(self.max_reconnects):
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 2.0)
            if self.close_code in (1001, 1012) or attempt > 0:
                self._url_index += 1  # that node is going away: try the next one
            try:
                await self._open()
                assert self._ws is not None and self.resume_token is not None
                ref = f"r{next(self._refs)}"
                await self._ws.send(
                    encode(Resume(self.resume_token, dict(self.last_seq), ref), self.codec),
                    text=self.codec.text,
                )
                # read until the resumed reply; anything before it is ordinary traffic
                async for data in self._ws:
                    frame = decode_server(data, self.codec)
                    if isinstance(frame, Resumed):
                        self.resume_token = frame.resume_token
                        self.resumes += 1
                        for say in list(self._outbox.values()):
                            await self._ws.send(
                                encode(dataclasses.replace(say, resend=True), self.codec),
                                text=self.codec.text,
                            )
                        self._connected.set()
                        async with self._resumed:
                            self._resumed.notify_all()
                        return True
                    if isinstance(frame, Error) and frame.ref == ref:
                        return False
                    self._dispatch(frame)
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError):
                continue
        return False

    def _dispatch(self, frame: ServerFrame) -> None:
        if isinstance(frame, Message):
            if frame.seq <= self.last_seq.get(frame.room, 0):
                return  # already seen (resume overlap)
            self.last_seq[frame.room] = frame.seq
        elif isinstance(frame, Joined):
            self.last_seq[frame.room] = frame.seq
        ref = getattr(frame, "ref", None)
        if ref is not None and not isinstance(frame, Message):
            self._outbox.pop(ref, None)
        if ref is not None and ref in self._pending and not isinstance(frame, Message):
            fut = self._pending.pop(ref)
            if not fut.done():
                fut.set_result(frame)
            return
        self._incoming.put_nowait(frame)

    async def wait_resumed(self, count: int, timeout: float = 10.0) -> None:
        """Wait until the client has resumed ``count`` times in all (tests, tools)."""
        async with asyncio.timeout(timeout), self._resumed:
            await self._resumed.wait_for(lambda: self.resumes >= count)

    # ------------------------------------------------------------------ requests

    async def send(self, frame: ClientFrame) -> None:
        await self._connected.wait()
        if self._ws is None:
            raise ChatClosed("not connected")
        await self._ws.send(encode(frame, self.codec), text=self.codec.text)

    async def send_raw(self, data: bytes | str) -> None:
        """Send bytes as they are (for tests of bad input)."""
        assert self._ws is not None
        await self._ws.send(data)

    async def request(
        self, frame: ClientFrame, timeout: float = 10.0, *, outbox: bool = False
    ) -> ServerFrame:
        """Send ``frame`` and wait for its reply. With ``outbox``, once the frame is
        written it is kept until answered, and sent again after a resume."""
        ref = getattr(frame, "ref", None)
        assert ref is not None
        fut: asyncio.Future[ServerFrame] = asyncio.get_running_loop().create_future()
        self._pending[ref] = fut
        await self.send(frame)
        if outbox and isinstance(frame, Say) and not fut.done():
            # only now: a frame still waiting to be written when a resume happens is
            # written once, after it, and must not be sent again by the resume too
            self._outbox[ref] = frame
        reply = await asyncio.wait_for(fut, timeout)
        if isinstance(reply, Error):
            raise ChatError(reply)
        return reply

    def ref(self) -> str:
        return str(next(self._refs))

    async def join(self, room: str) -> Joined:
        reply = await self.request(Join(room=room, ref=self.ref()))
        assert isinstance(reply, Joined)
        return reply

    async def leave(self, room: str) -> Left:
        reply = await self.request(Leave(room=room, ref=self.ref()))
        assert isinstance(reply, Left)
        return reply

    async def say(self, room: str, text: str, *, cw: str | None = None) -> ServerFrame:
        """Send a message. Returns the ``ack`` (or another reply the spec allows, such as a
        hold from the safety filters); raises :class:`ChatError` on an error frame."""
        say = Say(room=room, text=text, cw=cw, cid=secrets.token_hex(8))
        for attempt in range(self.resend_unavailable + 1):
            ref = self.ref()
            say = dataclasses.replace(say, ref=ref, resend=True if attempt else None)
            try:
                return await self.request(say, outbox=True)
            except ChatError as exc:
                if exc.code != "unavailable" or attempt == self.resend_unavailable:
                    raise
                await asyncio.sleep((exc.frame.retry_after or 2000) / 1000)
            finally:
                self._outbox.pop(ref, None)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    async def typing(self, room: str, active: bool = True) -> None:
        await self.send(Typing(room=room, active=active))

    async def ping(self) -> None:
        await self.send(Ping(ref=self.ref()))

    # ------------------------------------------------------------------ incoming

    async def recv(self, timeout: float | None = None) -> ServerFrame:
        frame = await asyncio.wait_for(self._incoming.get(), timeout)
        if frame is None:
            self._incoming.put_nowait(None)
            raise ChatClosed(f"connection closed ({self.close_code})")
        return frame

    def received(self) -> list[ServerFrame]:
        """Frames already received and not yet read, without waiting (for a clean exit)."""
        frames: list[ServerFrame] = []
        while not self._incoming.empty():
            frame = self._incoming.get_nowait()
            if frame is None:
                self._incoming.put_nowait(None)
                break
            frames.append(frame)
        return frames

    async def barrier(self, timeout: float = 2.0) -> None:
        """Wait until every frame the server sent before now has arrived (a ping's pong
        comes after them, frames being in order). Returns quietly if the link is gone."""
        with contextlib.suppress(ChatError, ChatClosed, TimeoutError, ConnectionClosed):
            await self.request(Ping(ref=self.ref()), timeout)

    async def recv_until(self, kind: type[Any], timeout: float = 10.0) -> Any:
        """Skip frames until one of ``kind`` arrives (tests and scripts)."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.recv()
                if isinstance(frame, kind):
                    return frame

    def __aiter__(self) -> AsyncIterator[ServerFrame]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ServerFrame]:
        while True:
            try:
                yield await self.recv()
            except ChatClosed:
                return


__all__ = ["Ack", "ChatClient", "ChatClosed", "ChatError"]
