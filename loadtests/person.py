"""One simulated participant: its socket, what it measures on every frame, its requests.

Receiving is a callback (:meth:`Person.on_frame`), so it costs no task. Every ``message``
is a delivery: its latency is now minus the send time in the text's marker (wall clock,
shared by all worker processes on the machine, so it holds across workers and nodes); a
``seq`` that skips ahead counts the skipped messages as lost; a sender that gets an ``ack``
but never sees its own message come back counts it as lost by id.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass, field
from typing import Any

from loadtests.phrases import TextMaker, marker, parse_marker
from loadtests.scenario import Population, Scenario
from loadtests.stats import IntervalStats
from loadtests.wsclient import ConnectFailed, LeanConnection, open_connection

REPLY_TIMEOUT = 10.0


def now_us() -> int:
    return time.time_ns() // 1000


@dataclass
class WorkerContext:
    """What every person of one worker process shares."""

    scenario: Scenario
    targets: tuple[str, ...]
    rng: random.Random
    #: loop.time() of the run's start, of the end of sending, of the end of the run
    start: float
    send_until: float
    end: float
    bare: bool = False
    listener_secret: str = ""
    stats: IntervalStats = field(default_factory=IntervalStats)
    #: room -> highest seq acknowledged to a sender still in it at the end
    room_max: dict[str, int] = field(default_factory=dict)
    #: room -> last seq seen by each person still in it at the end
    final_rooms: dict[str, list[int]] = field(default_factory=dict)
    open_connections: int = 0


class Person:
    def __init__(self, ctx: WorkerContext, gid: int, pop: Population, index: int) -> None:
        self.ctx = ctx
        self.gid = gid
        self.pop = pop
        self.index = index
        rng = ctx.rng
        names = [name for name, _ in pop.encodings]
        weights = [w for _, w in pop.encodings]
        self.encoding = rng.choices(names, weights)[0]
        self.target = ctx.targets[index % len(ctx.targets)]
        self.maker = TextMaker(random.Random(gid * 7919 + ctx.scenario.seed), pop.size, pop.trip)
        self.conn: LeanConnection | None = None
        self.welcome: asyncio.Future[dict[str, Any]] | None = None
        self.inbox: asyncio.Queue[dict[str, Any]] | None = None
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.sent_at: dict[str, int] = {}
        self.last_seq: dict[str, int] = {}
        #: room -> highest seq acknowledged to this person in this session
        self.acked_max: dict[str, int] = {}
        self.from_sender: dict[tuple[str, int], int] = {}
        self.awaiting_echo: set[str] = set()
        self.early_echo: set[str] = set()
        self.wait_echo: tuple[int, asyncio.Future[dict[str, Any]]] | None = None
        self.n = 0
        self.refs = 0
        #: ref -> frame type of recent requests, to say what an error refused
        self.requests: dict[str, str] = {}

    # ------------------------------------------------------------------ connection

    async def connect(self) -> bool:
        """Open a socket and read ``welcome``; False (counted) when that fails."""
        stats = self.ctx.stats
        started = now_us()
        loop = asyncio.get_running_loop()
        self.welcome = loop.create_future()
        self.last_seq.clear()
        self.from_sender.clear()
        self.acked_max.clear()
        self.awaiting_echo.clear()
        self.early_echo.clear()
        try:
            self.conn = await open_connection(
                self.target, self.encoding, self.on_frame, deflate=self.pop.deflate
            )
            async with asyncio.timeout(REPLY_TIMEOUT):
                await self.welcome
        except ConnectFailed as exc:
            self.ctx.stats.errors[f"connect:{exc.code}"] += 1
            self.ctx.stats.counts["connect_failed"] += 1
            self.conn = None
            return False
        except TimeoutError:
            self.ctx.stats.errors["connect:no_welcome"] += 1
            self.ctx.stats.counts["connect_failed"] += 1
            await self.close()
            return False
        stats = self.ctx.stats
        stats.record("connect", now_us() - started)
        stats.counts["connected"] += 1
        self.ctx.open_connections += 1
        return True

    async def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        if conn.is_open:
            self.ctx.open_connections -= 1
        await conn.close()

    def lost_connection(self) -> bool:
        """True (and counted) when the server closed the socket under us."""
        conn = self.conn
        if conn is None or not conn.closed.done():
            return False
        code = conn.closed.result()
        self.ctx.stats.errors[f"close:{code}"] += 1
        self.ctx.open_connections -= 1
        self.conn = None
        return True

    # ------------------------------------------------------------------ receiving

    def on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        stats = self.ctx.stats
        if kind == "message":
            self._message(frame, stats)
            return
        stats.counts[f"rx_{kind}"] += 1
        if kind == "chat_ended":
            stats.counts[f"chat_ended_{frame.get('reason')}"] += 1
        if kind == "ack":
            self._ack(frame)
        elif kind == "error":
            stats.errors[str(frame.get("code"))] += 1
            what = self.requests.pop(str(frame.get("ref")), "?")
            stats.counts[f"error_{frame.get('code')}_on_{what}"] += 1
        elif kind == "joined":
            seq = frame.get("seq")
            if isinstance(seq, int) and not self.ctx.bare:
                self.last_seq[str(frame.get("room"))] = seq
        elif kind == "welcome":
            if self.welcome is not None and not self.welcome.done():
                self.welcome.set_result(frame)
            return
        ref = frame.get("ref")
        if kind == "held" or kind == "error":
            self.sent_at.pop(str(ref), None)
        if ref is None and kind == "joined":  # a transport that echoes no ref (bare relay)
            ref = next((r for r in self.pending if r.startswith("j")), None)
        if ref is not None:
            fut = self.pending.pop(str(ref), None)
            if fut is not None and not fut.done():
                fut.set_result(frame)
                return
            if kind == "ack" or kind == "held" or kind == "error":
                return
        if self.inbox is not None:
            self.inbox.put_nowait(frame)

    def _message(self, frame: dict[str, Any], stats: IntervalStats) -> None:
        stats.counts["delivered"] += 1
        room = str(frame.get("room"))
        text = frame.get("text")
        mark = parse_marker(text) if isinstance(text, str) else None
        if mark is not None:
            stats.record("delivery", now_us() - mark[2])
        seq = None if self.ctx.bare else frame.get("seq")  # the bare relay's seq is per node
        if isinstance(seq, int):
            last = self.last_seq.get(room)
            if last is not None:
                if seq > last + 1:
                    stats.counts["lost_seq"] += seq - last - 1
                elif seq <= last:
                    stats.counts["duplicates"] += 1
                    return
            self.last_seq[room] = seq
        elif mark is not None:
            key = (room, mark[0])
            last = self.from_sender.get(key)
            if last is not None and mark[1] > last + 1:
                stats.counts["lost_seq"] += mark[1] - last - 1
            self.from_sender[key] = mark[1]
        if mark is not None and mark[0] == self.gid:
            mid = frame.get("id")
            if isinstance(mid, str):
                if mid in self.awaiting_echo:
                    self.awaiting_echo.discard(mid)
                else:
                    self.early_echo.add(mid)
            waiting = self.wait_echo
            if waiting is not None and waiting[0] == mark[1] and not waiting[1].done():
                waiting[1].set_result(frame)
        elif self.inbox is not None:
            self.inbox.put_nowait(frame)

    def _ack(self, frame: dict[str, Any]) -> None:
        stats = self.ctx.stats
        ref = str(frame.get("ref"))
        sent = self.sent_at.pop(ref, None)
        if sent is not None:
            stats.record("ack", now_us() - sent)
        stats.counts["acked"] += 1
        room, seq, mid = frame.get("room"), frame.get("seq"), frame.get("id")
        if (
            isinstance(room, str)
            and isinstance(seq, int)
            and not self.ctx.bare
            and seq > self.acked_max.get(room, 0)
        ):
            self.acked_max[room] = seq
        if isinstance(mid, str):
            if mid in self.early_echo:
                self.early_echo.discard(mid)
            else:
                self.awaiting_echo.add(mid)

    # ------------------------------------------------------------------ requests

    def ref(self) -> str:
        self.refs += 1
        return f"r{self.refs}"

    def send(self, frame: dict[str, Any]) -> bool:
        conn = self.conn
        return conn is not None and conn.send(frame)

    async def request(
        self, frame: dict[str, Any], timeout: float = REPLY_TIMEOUT
    ) -> dict[str, Any]:
        """Send a frame with a fresh ``ref``; the reply (or error) with that ref, or a
        ``{"type": "_timeout"}`` when none comes in time (counted)."""
        ref = frame["ref"] = ("j" if frame["type"] == "join" else "") + self.ref()
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[ref] = fut
        self.requests[ref] = frame["type"]
        if len(self.requests) > 64:
            self.requests.pop(next(iter(self.requests)))
        if not self.send(frame):
            self.pending.pop(ref, None)
            return {"type": "_closed"}
        try:
            async with asyncio.timeout(timeout):
                return await fut
        except TimeoutError:
            self.pending.pop(ref, None)
            self.ctx.stats.errors[f"timeout:{frame['type']}"] += 1
            return {"type": "_timeout"}

    def say(self, room: str, intended_us: int | None = None) -> tuple[str, int]:
        """Send one message without waiting; returns its ref and counter. ``intended_us``
        is the scheduled send time (fixed-rate scenarios: coordinated-omission correction)."""
        sent = now_us()
        n = self.n
        self.n += 1
        kind = self.maker.kind()
        text = self.maker.text(marker(self.gid, n, intended_us or sent), kind)
        ref = f"s{n}"
        self.sent_at[ref] = sent
        self.requests[ref] = "say"
        if len(self.requests) > 64:
            self.requests.pop(next(iter(self.requests)))
        stats = self.ctx.stats
        if self.send({"type": "say", "room": room, "text": text, "ref": ref}):
            stats.counts["sent"] += 1
            if kind:
                stats.counts[f"sent_{kind}"] += 1
        else:
            self.sent_at.pop(ref, None)
            stats.counts["send_failed"] += 1
        return ref, n

    async def say_and_wait(self, room: str) -> dict[str, Any]:
        """Closed loop: send, then wait for the reply (``ack``, ``held``, ``error``) or, on
        a transport that sends no ack (bare relay), for the message to come back."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[dict[str, Any]] = loop.create_future()
        ref, n = self.say(room)
        self.pending[ref] = fut
        if self.ctx.bare:
            self.wait_echo = (n, fut)
        try:
            async with asyncio.timeout(REPLY_TIMEOUT):
                return await fut
        except TimeoutError:
            self.ctx.stats.errors["timeout:say"] += 1
            return {"type": "_timeout"}
        finally:
            self.pending.pop(ref, None)
            self.wait_echo = None

    async def join(self, topic: str) -> str | None:
        reply = await self.request({"type": "join", "room": topic})
        if reply.get("type") != "joined":
            return None
        room = str(reply.get("room", topic))
        if "seq" not in reply:
            self.last_seq.pop(room, None)
        return room

    def final_state(self) -> tuple[dict[str, tuple[int, int]], int]:
        """Rooms still joined -> (last seq seen, highest seq acknowledged to this person in
        this session), and the acks never echoed back. Only this session's acks count: a
        room that emptied earlier may have been closed and opened again, its seq from 1."""
        rooms = {room: (seq, self.acked_max.get(room, 0)) for room, seq in self.last_seq.items()}
        return rooms, len(self.awaiting_echo)

    async def idle_until(self, deadline: float) -> None:
        """Hold the socket until ``deadline`` (loop time) or until the server closes it."""
        conn = self.conn
        if conn is None:
            return
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(conn.closed), remaining)
        self.lost_connection()
