"""A lean websocket client for load generation: websockets' sans-I/O protocol in an
asyncio.Protocol, no task per connection, frames handed to a callback as plain dicts.

The reference client (``clients.client.ChatClient``) decodes into validated dataclasses and
runs a reader task per socket; here thousands of sockets share one event loop, so receiving
is a callback (``on_frame``) and decoding is ``orjson.loads`` / ``msgpack.unpackb`` with no
validation (the harness reads the few fields it needs, and tolerates the bare relay's
subset of the protocol). Server pings are answered by the protocol object itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import msgpack
import orjson
from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from protocol import JSON_SUBPROTOCOL, MSGPACK_SUBPROTOCOL

FrameCallback = Callable[[dict[str, Any]], None]


class ConnectFailed(Exception):
    """The socket or the websocket handshake failed; ``code`` names how, for the report."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class LeanConnection(asyncio.Protocol):
    """One websocket. ``send()`` never waits; ``on_frame`` gets every decoded data frame."""

    def __init__(self, url: str, encoding: str, on_frame: FrameCallback, deflate: bool) -> None:
        self.msgpack = encoding == "msgpack"
        sub = Subprotocol(MSGPACK_SUBPROTOCOL if self.msgpack else JSON_SUBPROTOCOL)
        self.proto = ClientProtocol(
            parse_uri(url),
            subprotocols=[sub],
            extensions=[ClientPerMessageDeflateFactory()] if deflate else None,
            max_size=2**22,
        )
        self.on_frame = on_frame
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        # a handshake that fails after open_connection gave up must not log a warning
        self.opened.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.closed: asyncio.Future[int] = loop.create_future()

    # ---------------------------------------------------------------- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.proto.send_request(self.proto.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.proto.receive_data(data)
        for event in self.proto.events_received():
            if isinstance(event, Frame):
                if event.opcode is Opcode.TEXT or event.opcode is Opcode.BINARY:
                    self._frame(bytes(event.data))
            elif isinstance(event, Response) and not self.opened.done():
                if self.proto.state is State.OPEN:
                    # no subprotocol echoed: the node speaks JSON (SPEC, section 1)
                    self.msgpack = self.proto.subprotocol == MSGPACK_SUBPROTOCOL
                    self.opened.set_result(None)
                else:
                    self.opened.set_exception(ConnectFailed(f"http_{event.status_code}"))
        self._flush()

    def eof_received(self) -> bool | None:
        self.proto.receive_eof()
        self._flush()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectFailed("reset"))
        if not self.closed.done():
            code = self.proto.close_code
            self.closed.set_result(code if code is not None else 1006)

    # ---------------------------------------------------------------- frames

    def _frame(self, data: bytes) -> None:
        try:
            frame = msgpack.unpackb(data, raw=False) if self.msgpack else orjson.loads(data)
        except ValueError:
            frame = {"type": "_undecodable"}
        if isinstance(frame, dict):
            self.on_frame(frame)

    def _flush(self) -> None:
        transport = self.transport
        if transport is None:
            return
        for chunk in self.proto.data_to_send():
            if chunk:
                transport.write(chunk)
            else:
                with contextlib.suppress(OSError, RuntimeError):
                    if transport.can_write_eof():
                        transport.write_eof()
        if self.proto.close_expected() and self.proto.state is State.CLOSED:
            transport.close()

    @property
    def is_open(self) -> bool:
        return self.proto.state is State.OPEN

    def send(self, frame: dict[str, Any]) -> bool:
        """Encode and write one frame; False when the socket is not open."""
        if self.proto.state is not State.OPEN:
            return False
        if self.msgpack:
            self.proto.send_binary(msgpack.packb(frame))
        else:
            self.proto.send_text(orjson.dumps(frame))
        self._flush()
        return True

    def write_buffer(self) -> int:
        return self.transport.get_write_buffer_size() if self.transport is not None else 0

    async def close(self, timeout: float = 2.0) -> None:
        """Close normally (1000: the person left) and wait, at most ``timeout``."""
        if self.proto.state is State.OPEN:
            self.proto.send_close(1000)
            self._flush()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.closed), timeout)
        if self.transport is not None and not self.closed.done():
            self.transport.abort()


async def open_connection(
    url: str,
    encoding: str,
    on_frame: FrameCallback,
    *,
    deflate: bool = False,
    timeout: float = 10.0,
) -> LeanConnection:
    """Connect and finish the websocket handshake; raises :class:`ConnectFailed`."""
    uri = parse_uri(url)
    loop = asyncio.get_running_loop()
    conn = LeanConnection(url, encoding, on_frame, deflate)
    try:
        async with asyncio.timeout(timeout):
            await loop.create_connection(lambda: conn, uri.host, uri.port)
            await conn.opened
    except TimeoutError:
        if conn.transport is not None:
            conn.transport.abort()
        raise ConnectFailed("timeout") from None
    except ConnectionRefusedError:
        raise ConnectFailed("refused") from None
    except OSError as exc:
        raise ConnectFailed(f"os_{exc.errno}") from None
    return conn
