"""Fan-out writes: each frame built once for all members, one socket write per connection
per event-loop turn.

:func:`websockets.asyncio.connection.broadcast` encodes the payload once, but for every
member it builds a ``Frame``, serializes it (header and a copy of the payload) and writes
it to the transport at once: one ``send()`` system call per frame per member, half of a
node's time in the fan-out benchmark. Server frames are never masked, so with no
extension negotiated (no permessage-deflate) every member's frame is the same bytes.
:meth:`Writer.send` builds them once and appends them to each connection's own outgoing
list, the one websockets' sans-I/O protocol keeps (``protocol.writes``, drained by its
public ``data_to_send()``). At the end of the loop turn (``call_soon``) every touched
connection is written once, all its frames of that turn in one ``write``.

Order is kept whoever writes: anything websockets sends meanwhile (a pong, a close, a
frame through its own API) drains the same list first, so the bytes go out in the order
the frames were made. A connection with an extension goes through ``broadcast`` as before.
Nothing here waits: like ``broadcast`` there is no backpressure (the hub closes slow
consumers by their transport's buffer).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import structlog
from websockets.asyncio.connection import broadcast
from websockets.protocol import State

log = structlog.get_logger("chatserver.fanout")

_OPEN = State.OPEN


def frame(data: bytes, *, text: bool) -> bytes:
    """One unmasked FIN frame (RFC 6455, 5.2) carrying ``data``."""
    size = len(data)
    opcode = 0x81 if text else 0x82
    if size < 126:
        return bytes((opcode, size)) + data
    if size < 65536:
        return bytes((opcode, 126)) + size.to_bytes(2, "big") + data
    return bytes((opcode, 127)) + size.to_bytes(8, "big") + data


class Writer:
    """Frames appended now, written at the end of the loop turn (see the module
    docstring). ``frames`` and ``writes`` count what went out, for the benchmark."""

    def __init__(self) -> None:
        self._dirty: list[Any] = []
        #: the loop a flush is scheduled on (None: none is); another loop (a test's
        #: next one) schedules its own
        self._scheduled: asyncio.AbstractEventLoop | None = None
        self.frames = 0
        self.writes = 0

    def send(self, sockets: Iterable[Any], data: bytes, *, text: bool) -> None:
        """Queue ``data`` as one frame to each open connection in ``sockets``."""
        built: bytes | None = None
        dirty = self._dirty
        count = 0
        for ws in sockets:
            protocol = ws.protocol
            if protocol.state is not _OPEN or getattr(ws, "send_in_progress", None):
                continue  # as broadcast(): closing, or a fragmented send under way
            if protocol.extensions:  # each connection's own encoding (deflate)
                broadcast((ws,), data, text=text)
                continue
            if built is None:
                built = frame(data, text=text)
            writes = protocol.writes
            if not writes:
                dirty.append(ws)
            writes.append(built)
            count += 1
        self.frames += count
        if dirty:
            loop = asyncio.get_running_loop()
            if self._scheduled is not loop:
                self._scheduled = loop
                loop.call_soon(self.flush)

    def flush(self) -> None:
        """Write what each touched connection has queued, one write each."""
        self._scheduled = None
        dirty, self._dirty = self._dirty, []
        for ws in dirty:
            writes: list[bytes] = ws.protocol.data_to_send()
            if not writes:
                continue  # websockets wrote them already, with a frame of its own
            try:
                if len(writes) == 1:
                    data = writes[0]
                elif all(writes):
                    data = b"".join(writes)
                else:  # an end-of-stream marker among them: websockets' own path
                    ws.protocol.writes[:0] = writes
                    ws.send_data()
                    continue
                transport = ws.transport
                if not transport.is_closing():
                    transport.write(data)
                    self.writes += 1
            except Exception as exc:  # as broadcast(): one socket's failure spares the rest
                log.warning("fanout_write_failed", error=type(exc).__name__)


#: The node's writer: one per process is enough (flushes run on the loop that queued).
WRITER = Writer()
send = WRITER.send
