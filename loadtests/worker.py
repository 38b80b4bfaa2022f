"""A worker process: one asyncio loop running its share of the people of every population.

Client ``i`` of a population of ``n`` belongs to worker ``i % workers`` and connects to
target ``i % len(targets)``, so the members of one room are spread over the nodes (the
relay between nodes is part of what is measured) and over the workers.

Once a second the worker sends the coordinator a ``tick``: the interval's counts and
histograms, its open connections, its own CPU use and its event loop's worst lag (a
loaded client loop adds its own delay to every latency: the coordinator warns about it).
At the end it sends ``final``: for every room, the last ``seq`` each member saw, and the
highest ``seq`` acknowledged to its senders, for the tail-loss count.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing.synchronize
import random
import resource
import time
from dataclasses import dataclass
from typing import Any, Protocol

from loadtests.person import Person, WorkerContext
from loadtests.roles import run_person
from loadtests.scenario import Scenario
from loadtests.stats import IntervalStats

TICK = 1.0
LAG_PROBE = 0.05
#: Extra time a worker allows for closing sockets after the run.
CLOSE_GRACE = 5.0


class Sink(Protocol):
    def put(self, obj: Any) -> None: ...


@dataclass(frozen=True)
class WorkerArgs:
    scenario: Scenario
    index: int
    workers: int
    targets: tuple[str, ...]
    bare: bool = False
    listener_secret: str = ""


def raise_fd_limit() -> int:
    """Raise the soft open-files limit to the hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            return hard
    return soft


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class StartTime(Protocol):
    value: float


def main(
    args: WorkerArgs, sink: Sink, stop: multiprocessing.synchronize.Event, start: StartTime
) -> None:
    """Process entry point: say ready, wait for the coordinator's start time, run."""
    raise_fd_limit()
    sink.put(("ready", args.index))
    deadline = time.monotonic() + 60
    while start.value == 0.0 and not stop.is_set() and time.monotonic() < deadline:
        time.sleep(0.005)
    if start.value == 0.0:
        return
    try:
        asyncio.run(_run(args, start.value, sink, stop))
    except KeyboardInterrupt:
        pass
    except BaseException as exc:
        sink.put(("failed", args.index, f"{type(exc).__name__}: {exc}"))
        raise


def people(args: WorkerArgs, ctx: WorkerContext) -> list[tuple[Person, float]]:
    out = []
    gid = 0
    for pop in args.scenario.populations:
        for i in range(pop.count):
            if gid % args.workers == args.index:
                offset = args.scenario.start_offset(i, pop.count)
                out.append((Person(ctx, gid, pop, i), offset))
            gid += 1
    return out


async def _run(
    args: WorkerArgs, start_wall: float, sink: Sink, stop: multiprocessing.synchronize.Event
) -> None:
    sc = args.scenario
    loop = asyncio.get_running_loop()
    start = loop.time() + (start_wall - time.time())
    ctx = WorkerContext(
        scenario=sc,
        targets=args.targets,
        rng=random.Random(sc.seed * 1000 + args.index),
        start=start,
        send_until=start + sc.ramp_seconds + sc.duration,
        end=start + sc.total_seconds,
        bare=args.bare,
        listener_secret=args.listener_secret or sc.listener_secret,
    )
    lag = [0.0]
    async with asyncio.TaskGroup() as tg:
        prober = tg.create_task(_probe_lag(lag, ctx.end + CLOSE_GRACE))
        reporter = tg.create_task(_report(args, ctx, sink, lag, stop))
        runs = [tg.create_task(run_person(p, off)) for p, off in people(args, ctx)]
        watcher = tg.create_task(_watch_stop(stop, runs, ctx.end + CLOSE_GRACE))
        if runs:
            await asyncio.wait(runs)
        for task in (watcher, reporter, prober):
            task.cancel()
    _send_tick(args, ctx, sink, lag)
    sink.put(
        ("final", args.index, {"rooms": ctx.final_rooms, "room_max": ctx.room_max})
    )


async def _probe_lag(lag: list[float], until: float) -> None:
    loop = asyncio.get_running_loop()
    while loop.time() < until:
        before = loop.time()
        await asyncio.sleep(LAG_PROBE)
        late = loop.time() - before - LAG_PROBE
        lag[0] = max(lag[0], late)


async def _watch_stop(
    stop: multiprocessing.synchronize.Event, runs: list[asyncio.Task[None]], hard_end: float
) -> None:
    """Cancel everyone when the coordinator says stop (Ctrl-C) or the run overstays."""
    loop = asyncio.get_running_loop()
    while not stop.is_set() and loop.time() < hard_end:  # noqa: ASYNC110 (a process event)
        await asyncio.sleep(0.2)
    for task in runs:
        task.cancel()


_cpu_last: dict[int, tuple[float, float]] = {}


def _send_tick(args: WorkerArgs, ctx: WorkerContext, sink: Sink, lag: list[float]) -> None:
    stats, ctx.stats = ctx.stats, IntervalStats()
    now, cpu = time.monotonic(), cpu_seconds()
    last_now, last_cpu = _cpu_last.get(args.index, (now, cpu))
    _cpu_last[args.index] = (now, cpu)
    gauges = {
        "open": ctx.open_connections,
        "cpu": (cpu - last_cpu) / (now - last_now) if now > last_now else 0.0,
        "cpu_seconds": cpu,
        "lag_ms": lag[0] * 1000,
    }
    lag[0] = 0.0
    sink.put(("tick", args.index, time.time(), stats.snapshot(), gauges))


async def _report(
    args: WorkerArgs,
    ctx: WorkerContext,
    sink: Sink,
    lag: list[float],
    stop: multiprocessing.synchronize.Event,
) -> None:
    cpu_seconds()
    _cpu_last[args.index] = (time.monotonic(), cpu_seconds())
    while not stop.is_set():
        await asyncio.sleep(TICK)
        _send_tick(args, ctx, sink, lag)
