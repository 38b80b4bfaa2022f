"""One load-generator process of the fan-out benchmark: members on :mod:`loadtests.rawws`.

The coordinator (:mod:`loadtests.bench_scenarios`) spreads members over a few of these
processes so that no one event loop has to read every delivery: each worker holds its
share of each target's members (a *group*), sends its share of the offered rate, and
answers one command at a time over a pipe. Commands are tuples, ``(name, *args)``; each
gets one reply, a dict (or ``{"error": ...}``). Its own CPU time is reported with every
trial, so the report shows what the generator cost.
"""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import Callable, Coroutine, Sequence
from multiprocessing.connection import Connection
from typing import Any

import orjson

from loadtests.phrases import marker
from loadtests.rawws import JoinRefused, RawClient, Tally, connect, join

Endpoint = tuple[int, str, bool]  # node port, room, sampled
WORDS = "how is everyone doing tonight, I could use some company"
TICK = 0.005
CONCURRENCY = 64
#: longest wait for the deliveries of a trial still in flight after the last send
DRAIN_LIMIT = 15.0
#: tries of a refused join (the refusals are reported)
JOIN_ATTEMPTS = 5


def cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def join_retrying(client: RawClient, room: str, refused: dict[str, int]) -> None:
    """Join; a refused join is tried again after a pause, as a person would, and counted
    in ``refused`` (by error code)."""
    for attempt in range(JOIN_ATTEMPTS):
        try:
            await join(client, room)
            return
        except JoinRefused as exc:
            refused[exc.code] = refused.get(exc.code, 0) + 1
            if attempt == JOIN_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.2 * (attempt + 1))


class Group:
    def __init__(self) -> None:
        self.tally = Tally()
        self.members: list[tuple[RawClient, str]] = []


class Worker:
    def __init__(self, index: int) -> None:
        self.index = index
        self.groups: dict[str, Group] = {}
        self.said = 0

    async def connect(self, group: str, endpoints: Sequence[Endpoint]) -> dict[str, Any]:
        """Open (no join) one member per endpoint, ``CONCURRENCY`` at a time."""
        g = self.groups.setdefault(group, Group())
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(port: int, room: str, sampled: bool) -> tuple[RawClient, str]:
            async with gate:
                return await connect("127.0.0.1", port, g.tally, sampled=sampled), room

        g.members += await asyncio.gather(*(one(*e) for e in endpoints))
        return {"members": len(g.members)}

    async def join(self, group: str) -> dict[str, Any]:
        """Every member of ``group`` joins its room; per-join latency (join -> joined)."""
        g = self.groups[group]
        gate = asyncio.Semaphore(CONCURRENCY)

        refused: dict[str, int] = {}

        async def one(client: RawClient, room: str) -> int:
            async with gate:
                begin = time.monotonic_ns()
                await join_retrying(client, room, refused)
                return (time.monotonic_ns() - begin) // 1000

        join_us = await asyncio.gather(*(one(c, r) for c, r in g.members))
        return {"join_us": join_us, "refused": refused}

    async def fill(self, group: str, endpoints: Sequence[Endpoint], at: int) -> dict[str, Any]:
        """All members at once, from monotonic time ``at``: connect, then join. Times are
        absolute (ns), so the coordinator can merge the workers' spans."""
        g = self.groups.setdefault(group, Group())
        g.tally.reset((0, 2**63))
        await asyncio.sleep(max(0.0, (at - time.monotonic_ns()) / 1e9))

        refused: dict[str, int] = {}

        async def one(port: int, room: str, sampled: bool) -> tuple[int, int, int]:
            begin = time.monotonic_ns()
            client = await connect("127.0.0.1", port, g.tally, sampled=sampled)
            sent = time.monotonic_ns()
            await join_retrying(client, room, refused)
            g.members.append((client, room))
            return begin, sent, time.monotonic_ns()

        spans = await asyncio.gather(*(one(*e) for e in endpoints))
        return {"spans": spans, "refused": refused}

    async def quiet(self, group: str, idle: float, limit: float) -> dict[str, Any]:
        """Wait until ``group`` received nothing for ``idle`` s (at most ``limit`` s); the
        data frames and bytes it received since the last reset, and when the last came."""
        tally = self.groups[group].tally
        deadline = time.monotonic() + limit
        last, last_at = -1, time.monotonic_ns()
        while time.monotonic() < deadline:
            if tally.frames != last:
                last, last_at = tally.frames, time.monotonic_ns()
            elif time.monotonic_ns() - last_at > idle * 1e9:
                break
            await asyncio.sleep(0.05)
        return {"frames": tally.frames, "bytes": tally.frame_bytes, "last_ns": last_at}

    async def offer(
        self, group: str, rate: float, warm: float, seconds: float, at: int
    ) -> dict[str, Any]:
        """From monotonic time ``at``, say ``rate`` messages/s (this worker's share) round
        robin over the group's members for ``warm + seconds``; wait for stragglers.
        Counts what the group received, and how late this loop woke (its own lag)."""
        g = self.groups[group]
        tally = g.tally
        start_ns = at + int(warm * 1e9)
        end_ns = start_ns + int(seconds * 1e9)
        tally.reset((start_ns, end_ns))
        cpu0 = cpu_self()
        await asyncio.sleep(max(0.0, (at - time.monotonic_ns()) / 1e9))
        sent = sent_in_window = 0
        lag_us: list[int] = []
        # deliveries in the window: the count when it opens and when it closes (a clock
        # read per received frame would cost more than counting it)
        marks: list[tuple[int, int]] = []
        next_wake = time.monotonic_ns()
        while (now := time.monotonic_ns()) < end_ns:
            lag_us.append(max(0, now - next_wake) // 1000)
            if not marks and now >= start_ns:
                marks.append((tally.messages, now))
            due = int((now - at) * rate / 1e9) - sent
            times = self._say(g.members, sent, due)
            sent += due
            sent_in_window += sum(1 for t in times if start_ns <= t < end_ns)
            next_wake = time.monotonic_ns() + int(TICK * 1e9)
            await asyncio.sleep(TICK)
        marks.append((tally.messages, time.monotonic_ns()))
        drained = await self._drain(tally, settle=1.0, limit=DRAIN_LIMIT)
        lag_us.sort()
        return {
            "sent": sent,
            "sent_in_window": sent_in_window,
            "messages": tally.messages,
            "acks": tally.acks,
            "errors": tally.errors,
            "window_rate": (marks[-1][0] - marks[0][0]) * 1e9 / max(1, marks[-1][1] - marks[0][1]),
            "frames": tally.frames,
            "latencies_us": tally.latencies_us,
            "closed": tally.closed,
            "drain_s": drained,
            "cpu_s": cpu_self() - cpu0,
            "lag_p99_ms": lag_us[int(0.99 * (len(lag_us) - 1))] / 1000 if lag_us else 0.0,
        }

    def _say(self, members: list[tuple[RawClient, str]], first: int, count: int) -> list[int]:
        """Send ``count`` says, round robin from member ``first``; their send times."""
        times = []
        for i in range(first, first + count):
            client, room = members[i % len(members)]
            self.said += 1
            t = time.monotonic_ns()
            text = f"{marker(self.index, self.said, t // 1000)} {WORDS}"
            client.send(orjson.dumps({"type": "say", "room": room, "text": text}))
            times.append(t)
        return times

    async def _drain(self, tally: Tally, settle: float, limit: float) -> float:
        """Wait until deliveries stop coming (``settle`` s without one, at most ``limit``
        s): a late delivery is not a lost one. Returns the seconds waited."""
        begin = time.monotonic()
        last, last_at = tally.messages, begin
        while (now := time.monotonic()) - begin < limit and now - last_at < settle:
            await asyncio.sleep(0.05)
            if tally.messages != last:
                last, last_at = tally.messages, time.monotonic()
        return round(time.monotonic() - begin, 2)

    async def close(self, group: str) -> dict[str, Any]:
        g = self.groups.pop(group, None)
        for client, _ in g.members if g else ():
            client.close()
        await asyncio.sleep(0.1)
        return {"closed": len(g.members) if g else 0}


async def serve(index: int, conn: Connection) -> None:
    worker = Worker(index)
    loop = asyncio.get_running_loop()
    commands: dict[str, Callable[..., Coroutine[Any, Any, dict[str, Any]]]] = {
        "connect": worker.connect,
        "join": worker.join,
        "fill": worker.fill,
        "quiet": worker.quiet,
        "offer": worker.offer,
        "close": worker.close,
    }
    while True:
        # the pipe is read in a thread, so the loop keeps answering pings meanwhile
        name, *args = await loop.run_in_executor(None, conn.recv)
        if name == "exit":
            conn.send({"exit": True})
            return
        try:
            reply = await commands[name](*args)
        except Exception as exc:  # reported to the coordinator, which stops the run
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        conn.send(reply)


def main(index: int, conn: Connection, loop: str = "asyncio") -> None:
    """Process entry point (``multiprocessing``, spawn). ``loop="uvloop"``: uvloop's event
    loop (a few microseconds less per socket read, which is most of this process' work)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if loop == "uvloop":
        import uvloop

        uvloop.run(serve(index, conn))
    else:
        asyncio.run(serve(index, conn))
