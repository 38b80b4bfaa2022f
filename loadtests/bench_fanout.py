"""The fan-out primitive alone: CPU per delivered frame and socket writes per frame.

    python -m loadtests.bench_fanout [--members 500] [--rate 100] [--burst 1,4]
        [--seconds 4] [--methods broadcast,writer] [--repeat 3]

A websockets server in this process holds ``--members`` connections in one room; a
child process (uvloop when installed) holds the clients and only counts bytes. Every
5 ms tick the server sends its share of ``--rate`` messages (a 120-byte JSON frame) to
every member, ``--burst`` messages per event-loop turn (a turn that read several
messages from Redis delivers them together), by each method:

* ``broadcast``: :func:`websockets.asyncio.connection.broadcast`, one call per message;
* ``writer``: :data:`chatserver.fanout.send` (frame built once per message, one write
  per connection per turn).

Reported per trial: this process' CPU (user + system: the kernel's loopback send is
most of a delivery) per delivered frame, and ``write()``s per frame. The methods run
interleaved, ``--repeat`` times; the least disturbed trial (lowest CPU) is the figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import resource
import sys
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

from websockets.asyncio.connection import broadcast
from websockets.asyncio.server import ServerConnection, serve

from chatserver import fanout
from loadtests.rawws import RawClient, Tally

TICK = 0.005
PAYLOAD = (b'{"type":"message","room":"r","id":"5b1e0c9d2a4f6e83","seq":42,"handle":"Calm H'
           b'eron","role":"seeker","text":"Hi, is anyone around?","ts":1795000000000}')  # fmt: skip


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Counter(RawClient):
    """Counts bytes after the handshake; answers nothing (the server never pings here)."""

    received = 0
    target = 0
    done: asyncio.Event | None = None

    def data_received(self, data: bytes) -> None:
        if not self.open:
            super().data_received(data)
            data, self.buf = bytes(self.buf), bytearray()
        Counter.received += len(data)
        if Counter.done is not None and Counter.received >= Counter.target:
            Counter.done.set()


async def clients(port: int, members: int, conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    held = []
    for _ in range(members):
        _, client = await loop.create_connection(lambda: Counter(Tally(), sampled=False),
                                                 "127.0.0.1", port)  # fmt: skip
        assert client.transport is not None
        client.transport.write(client.request("127.0.0.1", port, "x"))
        await client.handshake
        held.append(client)
    conn.send(members)
    while True:
        command = await loop.run_in_executor(None, conn.recv)
        if command == "exit":
            return
        Counter.received, Counter.target, Counter.done = 0, command, asyncio.Event()
        conn.send("ready")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(Counter.done.wait(), 30)
        conn.send(Counter.received)


def client_main(port: int, members: int, conn: Connection) -> None:
    try:
        import uvloop

        uvloop.run(clients(port, members, conn))
    except ImportError:
        asyncio.run(clients(port, members, conn))


def sender(method: str) -> Callable[[Sequence[Any], bytes], None]:
    if method == "broadcast":
        return lambda sockets, data: broadcast(sockets, data, text=True)
    return lambda sockets, data: fanout.send(sockets, data, text=True)


async def trial(sockets: list[ServerConnection], method: str, args: argparse.Namespace,
                conn: Connection) -> dict[str, Any]:  # fmt: skip
    send = sender(method)
    per_tick = args.rate * TICK
    total = int(args.rate * args.seconds)
    size = len(fanout.frame(PAYLOAD, text=True))
    conn.send(total * len(sockets) * size)
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # counter reset
    writes0, cpu0, sent, start = fanout.WRITER.writes, cpu(), 0, time.monotonic()
    while sent < total:
        due = min(total, int((time.monotonic() - start) / TICK * per_tick) + 1) - sent
        for i in range(due):
            send(sockets, PAYLOAD)
            if (i + 1) % args.burst == 0:
                await asyncio.sleep(0)  # the next turn
        sent += due
        await asyncio.sleep(TICK)
    await asyncio.sleep(0)
    spent = cpu() - cpu0
    received = await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    frames = total * len(sockets)
    writes = fanout.WRITER.writes - writes0 if method == "writer" else frames
    return {
        "method": method, "burst": args.burst, "frames": frames,
        "complete": received == frames * size,
        "cpu_us_per_frame": round(spent * 1e6 / frames, 3),
        "writes_per_frame": round(writes / frames, 3),
        "load": os.getloadavg()[0],
    }  # fmt: skip


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    sockets: list[ServerConnection] = []
    everyone = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        sockets.append(ws)
        if len(sockets) == args.members:
            everyone.set()
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0, ping_interval=None, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        mine, theirs = multiprocessing.get_context("spawn").Pipe()
        child = multiprocessing.get_context("spawn").Process(
            target=client_main, args=(port, args.members, theirs), daemon=True
        )
        child.start()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, mine.recv)
        await everyone.wait()
        out = []
        for burst in [int(b) for b in args.burst.split(",")]:
            args_b = argparse.Namespace(**{**vars(args), "burst": burst})
            for _ in range(args.repeat):
                for method in args.methods.split(","):
                    result = await trial(sockets, method, args_b, mine)
                    print(json.dumps(result), file=sys.stderr, flush=True)
                    out.append(result)
        mine.send("exit")
        child.join(5)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.bench_fanout")
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--rate", type=float, default=100.0, help="messages/s to the room")
    parser.add_argument("--burst", default="1,4", help="messages per loop turn (a list)")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--methods", default="broadcast,writer")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    best: dict[str, dict[str, Any]] = {}
    for r in results:
        key = f"{r['method']} burst {r['burst']}"
        if key not in best or r["cpu_us_per_frame"] < best[key]["cpu_us_per_frame"]:
            best[key] = r
    print(json.dumps({"argv": sys.argv[1:], "best": best}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
