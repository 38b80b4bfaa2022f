"""A counting websocket client: the fan-out benchmark's receiver, cheap enough for 80,000 frames/s.

Why not ``websockets``' client: it parses every frame through a generator-based reader,
UTF-8-checks it and queues it for an ``async for``: tens of microseconds per frame, the
same order as the server's cost per delivery. At 80,000 deliveries/s on a 2-core machine
that shares its cores with the nodes under test, such a generator would be the bottleneck
and would measure itself. This client is an :class:`asyncio.Protocol` that splits the
stream into frames by their headers (server frames are never masked, and no extension is
offered, so a header is 2, 4 or 10 bytes) and, for most members, only counts: a frame
whose payload starts with ``{"type":"message"`` is a delivery. A *sampled* member also
decodes each message and records its latency from the send time carried in the text
(:func:`loadtests.phrases.marker`; ``CLOCK_MONOTONIC`` is one clock for every process).

Frames it sends are masked with the all-zero key (RFC 6455 requires a mask, not a
random one; the server cannot tell), so a ``say`` is one ``transport.write`` of bytes
built once. Pings are answered; nothing else of the protocol is kept.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import time
from dataclasses import dataclass, field
from typing import cast

import orjson

from loadtests.phrases import parse_marker

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MESSAGE = b'{"type":"message"'
JOINED = b'{"type":"joined"'
ERROR = b'{"type":"error"'
ACK = b'{"type":"ack"'


class JoinRefused(RuntimeError):
    def __init__(self, code: str) -> None:
        super().__init__(f"join refused: {code}")
        self.code = code


@dataclass(slots=True)
class Tally:
    """What the members of one process received; shared by all of them (one loop)."""

    window: tuple[int, int] = (0, 0)  # monotonic ns: sampled members time deliveries in it
    frames: int = 0  # every data frame
    frame_bytes: int = 0
    messages: int = 0  # every delivery since the last reset
    acks: int = 0  # says the server accepted
    errors: int = 0  # error frames (a refused say, or join)
    latencies_us: list[int] = field(default_factory=list)  # sampled members, in window
    closed: int = 0  # connections the server closed

    def reset(self, window: tuple[int, int]) -> None:
        self.window = window
        self.frames = self.frame_bytes = self.messages = self.acks = self.errors = 0
        self.latencies_us = []


def client_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """One FIN frame from client to server, masked with the zero key."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    return head + b"\x00\x00\x00\x00" + payload


def split_frames(buf: bytearray) -> tuple[list[tuple[int, bytes]], int]:
    """Complete server frames at the start of ``buf`` as (opcode, payload), and how many
    bytes they took."""
    out: list[tuple[int, bytes]] = []
    i, size = 0, len(buf)
    while size - i >= 2:
        n = buf[i + 1] & 0x7F
        head = 2
        if n == 126:
            if size - i < 4:
                break
            n, head = int.from_bytes(buf[i + 2 : i + 4], "big"), 4
        elif n == 127:
            if size - i < 10:
                break
            n, head = int.from_bytes(buf[i + 2 : i + 10], "big"), 10
        if size - i < head + n:
            break
        out.append((buf[i] & 0x0F, bytes(buf[i + head : i + head + n])))
        i += head + n
    return out, i


class RawClient(asyncio.Protocol):
    def __init__(self, tally: Tally, *, sampled: bool) -> None:
        self.tally = tally
        self.sampled = sampled
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.open = False
        self.handshake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.key = base64.b64encode(os.urandom(16))
        #: while joining: completes with the payload of ``joined`` (or ``error``)
        self.reply: asyncio.Future[bytes] | None = None
        self.first: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.close_code = 0  # from the server's close frame, if any

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def request(self, host: str, port: int, subprotocol: str) -> bytes:
        return (
            f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {self.key.decode()}\r\n"
            f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {subprotocol}\r\n\r\n"
        ).encode()

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        if self.open and not buf and not self.sampled and self._counted(data):
            return
        buf += data
        if not self.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            self._accept(bytes(buf[:end]))
            del buf[: end + 4]
        frames, used = split_frames(buf)
        if used:
            del buf[:used]
        if frames:
            self._frames(frames)

    def _counted(self, data: bytes) -> bool:
        """The fast path, most reads: whole text frames that are all deliveries (a server
        that writes a member's frames of one loop turn together sends several)."""
        size = len(data)
        at = frames = payload = 0
        while at < size:
            if size - at < 4 or data[at] != 0x81:
                return False
            n = data[at + 1]
            head = 2
            if n == 126:
                n, head = (data[at + 2] << 8) | data[at + 3], 4
            elif n == 127:
                return False
            if at + head + n > size or not data.startswith(MESSAGE, at + head):
                return False
            frames += 1
            payload += n
            at += head + n
        tally = self.tally
        tally.frames += frames
        tally.frame_bytes += payload
        tally.messages += frames
        return True

    def _accept(self, head: bytes) -> None:
        accept = base64.b64encode(hashlib.sha1(self.key + GUID).digest())  # noqa: S324
        if not head.startswith(b"HTTP/1.1 101") or accept not in head:
            self.handshake.set_exception(ConnectionError(head.split(b"\r\n", 1)[0].decode()))
            return
        self.open = True
        self.handshake.set_result(None)

    def _frames(self, frames: list[tuple[int, bytes]]) -> None:
        tally = self.tally
        now = time.monotonic_ns() if self.sampled else 0
        start, end = tally.window
        inside = start <= now < end
        for opcode, payload in frames:
            if opcode > 0x7:
                self._control(opcode, payload)
                continue
            tally.frames += 1
            tally.frame_bytes += len(payload)
            if payload.startswith(MESSAGE):
                tally.messages += 1
                if inside:
                    self._sample(payload, now)
            elif payload.startswith(ACK):
                tally.acks += 1
            elif not self.first.done():
                self.first.set_result(payload)
            elif self.reply is not None and not self.reply.done():
                if payload.startswith(JOINED) or payload.startswith(ERROR):
                    self.reply.set_result(payload)
            elif payload.startswith(ERROR):
                tally.errors += 1

    def _sample(self, payload: bytes, now: int) -> None:
        text = orjson.loads(payload).get("text", "")
        found = parse_marker(text) if isinstance(text, str) else None
        if found is not None:
            self.tally.latencies_us.append(now // 1000 - found[2])

    def _control(self, opcode: int, payload: bytes) -> None:
        assert self.transport is not None
        if opcode == 0x9:  # ping
            self.transport.write(client_frame(payload, 0xA))
        elif opcode == 0x8:  # close: answer it, the server then closes TCP
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self.transport.write(client_frame(payload[:2], 0x8))

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        self.tally.closed += 1
        for waiter in (self.handshake, self.first, self.reply):
            if waiter is not None and not waiter.done():
                waiter.set_exception(
                    ConnectionError(f"closed by the server (code {self.close_code}, {exc!r})")
                )

    def send(self, payload: bytes) -> None:
        if self.transport is not None and self.open:
            self.transport.write(client_frame(payload))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def connect(host: str, port: int, tally: Tally, *, sampled: bool) -> RawClient:
    """An open websocket speaking ``chat.v1.json``; returns once ``welcome`` arrived."""
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(lambda: RawClient(tally, sampled=sampled), host, port)
    assert client.transport is not None
    client.transport.write(client.request(host, port, "chat.v1.json"))
    await asyncio.wait_for(client.handshake, 30)
    await asyncio.wait_for(client.first, 30)  # welcome
    return client


async def join(client: RawClient, room: str) -> None:
    """Send ``join`` and wait for ``joined``; an ``error`` reply raises."""
    client.reply = asyncio.get_running_loop().create_future()
    client.send(orjson.dumps({"type": "join", "room": room, "ref": "j"}))
    payload = await asyncio.wait_for(client.reply, 60)
    client.reply = None
    if payload.startswith(ERROR):
        raise JoinRefused(str(orjson.loads(payload).get("code")))
