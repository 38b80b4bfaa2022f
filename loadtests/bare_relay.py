"""A bare relay: the yardstick chatserver is measured against (issue 3).

The same libraries and the same topology as chatserver on Redis, and no application logic:
websockets for clients, redis.asyncio pub/sub with one channel per room, one subscription
per room per node on one PubSub connection, publishes pipelined by one task. It speaks the
minimal subset of ``chat.v1`` JSON that load tools need:

* on connect: ``welcome`` (the same fields as the spec);
* ``join`` -> ``joined`` (``members`` empty, ``seq`` 0);
* ``say`` -> ``ack``, and every member of the room, on every node, receives
  ``{"type":"message","room","id","seq","handle","role","text","ts"}``; ``seq`` is a
  counter of the sending node, not a room sequence.

No validation, no limits, no safety filters, no history, no presence.

    python -m loadtests.bare_relay --port 0 --redis-url redis://127.0.0.1:6390/0

prints ``{"event": "listening", "port": P}`` on stderr once it accepts connections.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import secrets
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any

import orjson
import websockets
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

SUBPROTOCOL = Subprotocol("chat.v1.json")
PREFIX = "bare:"
MAX_BATCH = 512


def _select(connection: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    return SUBPROTOCOL if SUBPROTOCOL in offered else None


class BareRelay:
    def __init__(self, redis_url: str) -> None:
        self.redis: Redis = Redis.from_url(redis_url, max_connections=16)
        self.pubsub: PubSub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.rooms: dict[str, set[ServerConnection]] = {}
        self.seq = itertools.count(1)
        self.queue: list[tuple[str, bytes]] = []
        self.wake = asyncio.Event()
        self.subscribed = asyncio.Event()
        #: redis-py's PubSub connects on its first command: joins that arrive together must
        #: not race to open (and half-use) several connections
        self.sub_lock = asyncio.Lock()

    async def handler(self, ws: ServerConnection) -> None:
        handle = f"Guest {secrets.token_hex(2)}"
        joined: set[str] = set()
        await ws.send(
            orjson.dumps(
                {
                    "type": "welcome",
                    "session": secrets.token_hex(8),
                    "handle": handle,
                    "role": "seeker",
                    "resume_token": secrets.token_urlsafe(24),
                    "topics": [],
                    "max_text": 4000,
                    "protocol": "chat.v1",
                }
            ).decode()
        )
        try:
            async for data in ws:
                frame: dict[str, Any] = orjson.loads(data)
                kind = frame.get("type")
                room = str(frame.get("room", ""))
                ref = frame.get("ref")
                if kind == "say" and room in joined:
                    seq = next(self.seq)
                    msg_id = secrets.token_hex(8)
                    message = {
                        "type": "message",
                        "room": room,
                        "id": msg_id,
                        "seq": seq,
                        "handle": handle,
                        "role": "seeker",
                        "text": frame.get("text", ""),
                        "ts": int(time.time() * 1000),
                    }
                    self.queue.append((PREFIX + room, orjson.dumps(message)))
                    self.wake.set()
                    ack = {"type": "ack", "room": room, "id": msg_id, "seq": seq}
                    if ref is not None:
                        ack["ref"] = ref
                    await ws.send(orjson.dumps(ack).decode())
                elif kind == "join" and room not in joined:
                    joined.add(room)
                    members = self.rooms.setdefault(room, set())
                    first = not members
                    members.add(ws)
                    if first:
                        async with self.sub_lock:
                            await self.pubsub.subscribe(PREFIX + room)
                        self.subscribed.set()
                    reply: dict[str, Any] = {
                        "type": "joined",
                        "room": room,
                        "handle": handle,
                        "role": "seeker",
                        "members": [],
                        "seq": 0,
                    }
                    if ref is not None:
                        reply["ref"] = ref
                    await ws.send(orjson.dumps(reply).decode())
                elif kind == "ping":
                    await ws.send(orjson.dumps({"type": "pong", "ref": ref}).decode())
        finally:
            for room in joined:
                members = self.rooms.get(room, set())
                members.discard(ws)
                if not members:
                    self.rooms.pop(room, None)
                    if not self.rooms:
                        self.subscribed.clear()
                    with contextlib.suppress(Exception):
                        async with self.sub_lock:
                            await self.pubsub.unsubscribe(PREFIX + room)

    async def publisher(self) -> None:
        """One task drains pending publishes into one pipeline per round trip."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.queue:
                batch, self.queue = self.queue[:MAX_BATCH], self.queue[MAX_BATCH:]
                async with self.redis.pipeline(transaction=False) as pipe:
                    for channel, data in batch:
                        pipe.publish(channel, data)
                    await pipe.execute()

    async def reader(self) -> None:
        """Fan every room message out to the local members, as is."""
        while True:
            await self.subscribed.wait()  # listen() ends with the last subscription
            async for message in self.pubsub.listen():
                if message["type"] != "message":
                    continue
                room = message["channel"].decode()[len(PREFIX) :]
                members = self.rooms.get(room)
                if members:
                    websockets.broadcast(members, message["data"].decode())


async def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtests.bare_relay")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--redis-url", required=True)
    args = parser.parse_args(argv)
    relay = BareRelay(args.redis_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with (
            # the backlog chatserver listens with (its --listen-backlog): a join storm must
            # not wait out a dropped SYN on one side only
            serve(
                relay.handler, args.host, args.port, select_subprotocol=_select, backlog=1024
            ) as server,
            asyncio.TaskGroup() as tg,
        ):
            port = server.sockets[0].getsockname()[1]
            print(orjson.dumps({"event": "listening", "port": port}).decode(), file=sys.stderr)
            sys.stderr.flush()
            tasks = [tg.create_task(relay.publisher()), tg.create_task(relay.reader())]
            await stop.wait()
            for task in tasks:
                task.cancel()
    finally:
        await relay.pubsub.aclose()  # type: ignore[no-untyped-call]
        await relay.redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
