"""What the fault tests share: real chatserver nodes, their own redis-server, and a small
client written from protocol/SPEC.md alone (raw JSON frames over websockets), so a test
sees exactly what a person's widget or console would see.

Every wait here is bounded; a helper that waits takes a ``timeout`` and raises
``TimeoutError`` when it passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from chatserver.tokens import Claims, issue
from tests.helpers.procs import RedisProcess, ServerProcess

SECRET = "faults-test-listener-secret"
#: Short timings so a node loss plays out in seconds (SPEC defaults: 15 s and 60 s).
PRESENCE_TTL = 2.0
GRACE = 4.5
#: When a dead node's members have surely been evicted by the living (presence key: half
#: the TTL, refreshed every quarter), yet well within the resume grace.
EVICTED = PRESENCE_TTL + 1.2
#: Args every node of these tests gets; the safety filters are off unless a test needs them.
BASE_ARGS = (
    "--listener-secret", SECRET,
    "--presence-ttl", str(PRESENCE_TTL),
    "--resume-grace", str(GRACE),
    "--rate-per-second", "500",
    "--rate-burst", "500",
    "--filters", "",
    "--drain-seconds", "2",
)  # fmt: skip

Frame = dict[str, Any]


def token(
    lid: str = "l-1",
    name: str = "Sam",
    topics: tuple[str, ...] = ("grief", "anxiety"),
    ttl: int = 3600,
    role: str = "listener",
) -> str:
    return issue(Claims(lid, name, topics, int(time.time()) + ttl, role), SECRET)


# ---------------------------------------------------------------------- processes


def args(*extra: str, redis: RedisProcess | None = None, base: tuple[str, ...] = BASE_ARGS
         ) -> tuple[str, ...]:  # fmt: skip
    """Command line of a node: the base args, its Redis if any, then ``extra`` (later flags
    win, so ``extra`` may override a base setting)."""
    out = list(base)
    if redis is not None:
        out += ["--redis-url", redis.url]
    return (*out, *extra)


@contextlib.contextmanager
def nodes(count: int, *extra: str, redis: RedisProcess | None = None
          ) -> Iterator[list[ServerProcess]]:  # fmt: skip
    """``count`` chatserver processes on free loopback ports; killed at the end."""
    started: list[ServerProcess] = []
    try:
        for _ in range(count):
            started.append(ServerProcess(*args(*extra, redis=redis)).start())
        yield started
    finally:
        for node in started:
            node.kill()


def sigkill(node: ServerProcess) -> None:
    """SIGKILL by PID (no drain, no goodbye), then reap it."""
    node.signal(signal.SIGKILL)
    node.wait(10)


@contextlib.contextmanager
def own_redis() -> Iterator[RedisProcess]:
    """A redis-server for one test only (these tests restart it and scan all its keys)."""
    redis = RedisProcess().start()
    try:
        yield redis
    finally:
        redis.cleanup()


def restart(redis: RedisProcess) -> None:
    """Stop Redis and start it again on the same port, empty (nothing is persisted)."""
    redis.stop()
    redis.start()


async def admin(redis: RedisProcess) -> Redis:
    return Redis.from_url(redis.url)


async def scan_keys(client: Redis) -> list[bytes]:
    keys = [key async for key in client.scan_iter(count=1000)]
    return sorted(keys)


async def keys_without_ttl(client: Redis) -> list[bytes]:
    return [key for key in await scan_keys(client) if await client.pttl(key) == -1]


# ---------------------------------------------------------------------- the client


class Peer:
    """One websocket speaking ``chat.v1.json``, frames as plain dicts (SPEC section 2).

    A reader task collects every server frame into ``inbox``; :meth:`expect` takes the
    first one that matches, waiting for it if need be, so frames are never lost between
    two expectations."""

    def __init__(self, ws: ClientConnection, welcome: Frame, url: str) -> None:
        self.ws = ws
        self.url = url
        self.welcome = welcome
        self.token: str = welcome["resume_token"]
        self.inbox: list[Frame] = []
        self.seen: list[Frame] = []  # every frame ever received, for assertions
        self.close_code: int | None = None
        self.closed_at: float | None = None
        self._refs = itertools.count(1)
        self._new = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(cls, url: str, *, headers: dict[str, str] | None = None) -> Peer:
        ws = await connect(
            url,
            subprotocols=["chat.v1.json"],  # type: ignore[list-item]
            additional_headers=headers,
            open_timeout=10,
        )
        welcome = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        assert welcome["type"] == "welcome", welcome
        return cls(ws, welcome, url)

    async def _read(self) -> None:
        try:
            async for data in self.ws:
                frame = orjson.loads(data)
                self.inbox.append(frame)
                self.seen.append(frame)
                self._new.set()
        except ConnectionClosed:
            pass
        finally:
            rcvd = self.ws.protocol.close_rcvd
            self.close_code = rcvd.code if rcvd is not None else 1006
            self.closed_at = time.monotonic()
            self._new.set()

    @property
    def handle(self) -> str:
        return str(self.welcome["handle"])

    async def send(self, frame: Frame) -> None:
        await self.ws.send(orjson.dumps(frame).decode())

    async def request(self, frame: Frame, timeout: float = 5.0) -> Frame:
        """Send ``frame`` with a fresh ``ref``; return the reply (or error) naming it."""
        ref = f"t{next(self._refs)}"
        await self.send({**frame, "ref": ref})
        return await self.expect(lambda f: f.get("ref") == ref, timeout=timeout)

    async def expect(
        self, match: str | Callable[[Frame], bool], timeout: float = 5.0, **fields: Any
    ) -> Frame:
        """The first frame (oldest first) of type ``match`` (or passing it) whose fields
        equal ``fields``; raises TimeoutError when none comes in time."""

        def ok(frame: Frame) -> bool:
            if isinstance(match, str):
                if frame.get("type") != match:
                    return False
            elif not match(frame):
                return False
            return all(frame.get(k) == v for k, v in fields.items())

        async with asyncio.timeout(timeout):
            while True:
                for i, frame in enumerate(self.inbox):
                    if ok(frame):
                        del self.inbox[i]
                        return frame
                if self.closed_at is not None:
                    raise ConnectionError(f"closed ({self.close_code}) while waiting")
                self._new.clear()
                await self._new.wait()

    async def nothing(self, match: str | Callable[[Frame], bool], within: float, **fields: Any
                      ) -> None:  # fmt: skip
        """Assert that no matching frame arrives within ``within`` seconds."""
        try:
            frame = await self.expect(match, timeout=within, **fields)
        except (TimeoutError, ConnectionError):
            return
        raise AssertionError(f"unexpected frame: {frame}")

    async def wait_closed(self, timeout: float) -> int:
        """The close code once the socket is closed (TimeoutError if it stays open)."""
        async with asyncio.timeout(timeout):
            await asyncio.shield(self._reader)
        assert self.close_code is not None
        return self.close_code

    def drop(self) -> None:
        """Lose the connection as a phone does: no close frame, the TCP stream just ends."""
        self.ws.transport.abort()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 2)
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader

    # -------------------------------------------------------------- steps of the SPEC

    async def join(self, room: str) -> Frame:
        reply = await self.request({"type": "join", "room": room})
        assert reply["type"] == "joined", reply
        return reply

    async def say(self, room: str, text: str) -> Frame:
        return await self.request({"type": "say", "room": room, "text": text})

    async def auth(self, tok: str) -> Frame:
        reply = await self.request({"type": "auth", "token": tok})
        assert reply["type"] == "authed", reply
        return reply

    async def listen(self, capacity: int = 1, topics: list[str] | None = None) -> Frame:
        frame: Frame = {"type": "listen", "capacity": capacity}
        if topics is not None:
            frame["topics"] = topics
        reply = await self.request(frame)
        assert reply["type"] == "listening", reply
        return reply

    async def request_support(self, topic: str = "grief") -> Frame:
        reply = await self.request({"type": "request_support", "topic": topic})
        assert reply["type"] == "queue_position", reply
        return reply


async def resume(url: str, tok: str, last_seq: dict[str, int] | None = None,
                 timeout: float = 5.0) -> tuple[Peer, Frame]:  # fmt: skip
    """A new connection to ``url`` that sends ``resume``; the reply is ``resumed`` or an
    ``error`` frame. The peer's token becomes the new one on success."""
    peer = await Peer.open(url)
    reply = await peer.request(
        {"type": "resume", "token": tok, "last_seq": last_seq or {}}, timeout=timeout
    )
    if reply["type"] == "resumed":
        peer.token = reply["resume_token"]
    return peer, reply


async def listener(url: str, lid: str = "l-1", name: str = "Sam", capacity: int = 1,
                   topics: tuple[str, ...] = ("grief", "anxiety"), role: str = "listener"
                   ) -> Peer:  # fmt: skip
    peer = await Peer.open(url)
    await peer.auth(token(lid, name, topics, role=role))
    if role == "listener":
        await peer.listen(capacity)
    return peer


async def paired(seeker: Peer, lst: Peer, timeout: float = 5.0) -> str:
    """Both sides got ``paired`` and ``joined`` for the same private room; its id."""
    a = await seeker.expect("paired", timeout=timeout)
    b = await lst.expect("paired", timeout=timeout)
    assert a["room"] == b["room"]
    await seeker.expect("joined", room=a["room"], timeout=timeout)
    await lst.expect("joined", room=a["room"], timeout=timeout)
    return str(a["room"])


async def close_all(*peers: Peer | None) -> None:
    for peer in peers:
        if peer is not None:
            await peer.close()
