"""Relay benchmark (issue 3): chatserver vs a bare relay, two nodes + Redis each, one run.

    python -m loadtests.bench_relay [--rooms 40] [--members 4] [--rates 400,800,...]
                                    [--seconds 5] [--filters none|default|both]

One redis-server; for each target (``bare``: ``loadtests.bare_relay``; ``chatserver``,
without and/or with the default safety filters) two nodes on free loopback ports and
``rooms * members`` clients (member ``i`` of a room on node ``i % 2``, so every room spans
both nodes). Then each rate is offered to each target in turn (interleaved, so background
load hits them alike): every client says messages at ``rate / clients`` per second,
stamped with the send time. Every member's every ``message`` is a delivery; its latency is
receive time minus send time (end to end: client -> node -> Redis -> both nodes ->
clients). A rate is *sustained* when deliveries/s reach 95% of what was offered and p99
stays under 1 s. Each (rate, target) runs ``--repeat`` times and the least disturbed trial
(lowest p99) counts; a target stops after two unsustained rates in a row. Output: one line per
(target, rate) on stderr, then a JSON report on stdout with, per chatserver variant, the
verdict against the issue's targets: max sustained deliveries/s >= 70% of bare's, and p99
at the highest rate both sustain <= 1.5x bare's.

The load generator shares the machine: run it when the machine is otherwise idle.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from loadtests.bench_nodes import cpu_model, cpu_seconds, nodes, percentile, redis_server

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RATES = "400,800,1200,1600,2000,2400,2800,3600,4400,5200,6000,6800"
SUSTAINED = 0.95
MAX_MISSES = 2
P99_LIMIT_MS = 1000.0


@dataclass
class Stats:
    window: tuple[int, int] = (0, 0)
    deliveries: int = 0  # in the measured window
    total: int = 0  # since the rate began (warm-up and drain included), for CPU per delivery
    latencies_us: list[int] = field(default_factory=list)
    errors: int = 0
    altered: int = 0  # deliveries whose text a filter changed: no latency for them
    sent_at: dict[str, int] = field(default_factory=dict)  # message tag -> send time (ns)


class Member:
    def __init__(self, ws: ClientConnection, room: str, stats: Stats) -> None:
        self.ws = ws
        self.room = room
        self.stats = stats
        self.task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        stats = self.stats
        with contextlib.suppress(ConnectionClosed):
            async for data in self.ws:
                frame = orjson.loads(data)
                kind = frame.get("type")
                if kind == "message":
                    stats.total += 1
                    now = time.monotonic_ns()
                    start, end = stats.window
                    if start <= now < end:
                        stats.deliveries += 1
                        words = str(frame.get("text", "")).split(" ", 2)
                        sent = stats.sent_at.get(words[1]) if len(words) > 1 else None
                        if sent is None:
                            stats.altered += 1
                        else:
                            stats.latencies_us.append((now - sent) // 1000)
                elif kind == "error":
                    stats.errors += 1


async def open_member(url: str, room: str, stats: Stats) -> Member:
    # no permessage-deflate: it would be negotiated per socket on both targets alike, and
    # the client's decompression would dominate the load generator's own CPU budget
    ws = await connect(
        url,
        subprotocols=[Subprotocol("chat.v1.json")],
        open_timeout=20,
        compression=None,
        ping_interval=None,  # a starved machine must not end the run with a ping timeout
    )
    await ws.recv()  # welcome
    await ws.send(orjson.dumps({"type": "join", "room": room, "ref": "j"}).decode())
    while True:
        frame = orjson.loads(await ws.recv())
        if frame.get("type") == "joined":
            return Member(ws, room, stats)
        if frame.get("type") == "error":
            raise RuntimeError(f"join refused: {frame.get('code')}")


@contextlib.asynccontextmanager
async def members(
    ports: list[int], rooms: list[str], per_room: int
) -> AsyncIterator[tuple[list[Member], Stats]]:
    stats = Stats()
    out: list[Member] = []
    try:
        for room in rooms:
            for i in range(per_room):
                url = f"ws://127.0.0.1:{ports[i % 2]}"
                out.append(await open_member(url, room, stats))
        yield out, stats
    finally:
        for m in out:
            await m.ws.close()
            m.task.cancel()
            with contextlib.suppress(BaseException):
                await m.task


def tag(n: int) -> str:
    """A message's tag in letters: digits could look like a phone number to the filters."""
    out = ""
    while True:
        n, r = divmod(n, 26)
        out += chr(97 + r)
        if not n:
            return out


async def offer(
    group: list[Member], stats: Stats, pids: Sequence[int], rate: float, seconds: float
) -> dict[str, Any]:
    """Send ``rate`` messages/s spread over every member for ``seconds`` (after 1 s of
    warm-up, not counted); return what was delivered in the measured window, and the CPU
    time the target's nodes used per delivery (less sensitive to background load)."""
    warm = 1.0
    tick = 0.01
    words = "how is everyone doing tonight, I could use some company"
    begin = time.monotonic_ns()
    stats.window = (begin + int(warm * 1e9), begin + int((warm + seconds) * 1e9))
    stats.deliveries, stats.latencies_us, stats.errors, stats.altered = 0, [], 0, 0
    stats.total = 0
    stats.sent_at.clear()
    cpu_before = cpu_seconds(pids)
    index = 0
    sent_in_window = 0
    start = time.monotonic()
    loop_end = start + warm + seconds
    while (now := time.monotonic()) < loop_end:
        due = int((now - start) * rate) - index  # paced by elapsed time, not by ticks
        for _ in range(due):
            m = group[index % len(group)]
            index += 1
            sent_ns = time.monotonic_ns()
            label = tag(index)
            stats.sent_at[label] = sent_ns
            text = f"msg {label} {words}"
            try:
                await m.ws.send(
                    orjson.dumps({"type": "say", "room": m.room, "text": text}).decode()
                )
            except ConnectionClosed:
                stats.errors += 1
            if stats.window[0] <= sent_ns < stats.window[1]:
                sent_in_window += 1
        await asyncio.sleep(tick)
    await asyncio.sleep(1.0)  # deliveries of the window still in flight
    cpu = cpu_seconds(pids) - cpu_before
    per_room = len(group) // len({m.room for m in group})
    expected = sent_in_window * per_room / seconds
    delivered = stats.deliveries / seconds
    p50 = percentile(stats.latencies_us, 0.50)
    p99 = percentile(stats.latencies_us, 0.99)
    return {
        "offered_msgs_s": rate,
        "expected_deliveries_s": round(expected, 1),
        "deliveries_s": round(delivered, 1),
        "p50_ms": round(p50, 2),
        "p99_ms": round(p99, 2),
        "errors": stats.errors,
        "altered": stats.altered,
        "node_cpu_us_per_delivery": round(cpu * 1e6 / max(stats.total, 1)),
        "sustained": delivered >= SUSTAINED * expected and p99 <= P99_LIMIT_MS,
    }


async def run_all(
    variants: list[tuple[str, str, str]], redis_url: str, rooms: list[str], per_room: int,
    rates: Sequence[float], seconds: float, repeat: int,
) -> dict[str, list[dict[str, Any]]]:  # fmt: skip
    """Every target runs at once (idle until its turn); each rate is offered to each target
    in turn, ``repeat`` times, so a change in the machine's background load hits them
    alike; per rate and target the trial with the lowest p99 counts. A target stops after
    two unsustained rates in a row."""
    results: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in variants}
    async with contextlib.AsyncExitStack() as stack:
        groups = {}
        for index, (name, target, filters) in enumerate(variants):
            # rooms of their own: targets share one Redis (and chatserver variants one key
            # prefix), and an idle target must not relay the measured one's traffic
            own = [f"v{index}{room}" for room in rooms]
            procs = stack.enter_context(
                nodes(target, redis_url, own, filters, node_prefix=f"v{index}n")
            )
            group, stats = await stack.enter_async_context(
                members([p.port for p in procs], own, per_room)
            )
            groups[name] = (group, stats, [p.proc.pid for p in procs])
        misses = dict.fromkeys(groups, 0)
        for rate in rates:
            trials: dict[str, list[dict[str, Any]]] = {name: [] for name in groups}
            for _ in range(repeat):
                for name, (group, stats, pids) in groups.items():
                    if misses[name] < MAX_MISSES:
                        result = await offer(group, stats, pids, rate, seconds)
                        print(f"  {name:<22} {json.dumps(result)}", file=sys.stderr)
                        trials[name].append(result)
            for name, runs in trials.items():
                if runs:  # the trial least disturbed by the machine's other work
                    chosen = min(runs, key=lambda r: (not r["sustained"], r["p99_ms"]))
                    results[name].append(chosen)
                    misses[name] = 0 if chosen["sustained"] else misses[name] + 1
            if all(m >= MAX_MISSES for m in misses.values()):
                break
    return results


def best(results: list[dict[str, Any]]) -> dict[str, Any] | None:
    ok = [r for r in results if r["sustained"]]
    return max(ok, key=lambda r: r["deliveries_s"]) if ok else None


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.bench_relay")
    parser.add_argument("--rooms", type=int, default=40)
    parser.add_argument("--members", type=int, default=4, help="members per room")
    parser.add_argument("--rates", default=DEFAULT_RATES)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=2, help="trials per rate and target")
    parser.add_argument(
        "--filters", choices=["none", "default", "both"], default="none",
        help="chatserver safety filters: none (--filters ,), the default list, or both",
    )  # fmt: skip
    args = parser.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",")]
    rooms = [f"bench{i}" for i in range(args.rooms)]
    machine = {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "load_before": os.getloadavg(),
    }
    print(f"machine: {json.dumps(machine)}", file=sys.stderr)
    variants = {"none": ["none"], "default": ["default"], "both": ["none", "default"]}
    report: dict[str, Any] = {"machine": machine, "rooms": args.rooms, "members": args.members}
    chosen = [("bare", "bare", "")] + [
        (f"chatserver[{f}]", "chatserver", f) for f in variants[args.filters]
    ]
    with redis_server() as redis_url:
        results = await run_all(
            chosen, redis_url, rooms, args.members, rates, args.seconds, args.repeat
        )
    report.update(results)
    for name, _, _ in chosen[1:]:
        report[name + ":verdict"] = verdict(results["bare"], results[name])
    report["load_after"] = os.getloadavg()
    print(json.dumps(report))
    return 0


def verdict(bare: list[dict[str, Any]], cs: list[dict[str, Any]]) -> dict[str, Any]:
    """Max sustained throughput ratio, and p99 ratio at the highest rate both sustain."""
    b, c = best(bare), best(cs)
    out: dict[str, Any] = {
        "bare_max_deliveries_s": b and b["deliveries_s"],
        "chatserver_max_deliveries_s": c and c["deliveries_s"],
    }
    if b and c:
        out["throughput_ratio"] = round(c["deliveries_s"] / b["deliveries_s"], 3)
        ok_bare = {r["offered_msgs_s"]: r for r in bare if r["sustained"]}
        ok_cs = {r["offered_msgs_s"]: r for r in cs if r["sustained"]}
        common = max(set(ok_bare) & set(ok_cs), default=None)
        if common is None:
            return out
        rb, rc = ok_bare[common], ok_cs[common]
        out["at_offered_msgs_s"] = common
        out["p50_ms"] = {"bare": rb["p50_ms"], "chatserver": rc["p50_ms"]}
        out["p99_ms"] = {"bare": rb["p99_ms"], "chatserver": rc["p99_ms"]}
        out["p99_ratio"] = round(rc["p99_ms"] / rb["p99_ms"], 3) if rb["p99_ms"] else None
        out["meets_target"] = out["throughput_ratio"] >= 0.7 and (out["p99_ratio"] or 0) <= 1.5
    return out


def entry(argv: Sequence[str] | None = None) -> int:
    """``--scenario relay`` (the default) is the run above; any other names the fan-out
    scenarios of issue 17 (:mod:`loadtests.bench_scenarios`), which take their own options."""
    args = list(sys.argv[1:] if argv is None else argv)
    scenario = next((a.split("=", 1)[1] for a in args if a.startswith("--scenario=")), None)
    if "--scenario" in args:
        scenario = args[args.index("--scenario") + 1]
    if scenario is None or scenario == "relay":
        args = [a for a in args if not a.startswith("--scenario")]
        return asyncio.run(main([a for a in args if a != "relay"]))
    from loadtests import bench_scenarios  # only this path needs the worker processes

    return bench_scenarios.main(args)


if __name__ == "__main__":
    sys.exit(entry())
