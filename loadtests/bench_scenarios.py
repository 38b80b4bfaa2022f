"""Fan-out scenarios (issue 17): chatserver vs the bare relay where rooms are big.

    python -m loadtests.bench_relay --scenario rooms,spread,big,fill
        [--targets bare,default,none] [--rates 1000,2000,4000,6000,8000,10000]
        [--seconds 5] [--repeat 2] [--workers 2] [--sample 10] [--fill-members 500]
        [--nodes 2] [--shards 1] [--before-tree DIR]

Scenarios (each starts fresh nodes, ``--nodes`` per target (2), on one throwaway Redis,
or a cluster of ``--shards`` masters; member ``i`` of a room is on node ``i % nodes``;
every target in rooms of its own):

* ``rooms``: 100 rooms x 10 members, a ramp: the highest rate with p99 <= 50 ms and no
  loss (every message reaches every member of its room by the end of the trial);
* ``spread``: 200 rooms x 5 members at 2,000 msg/s;
* ``big``: 1 room x 500 members at 100 msg/s (50,000 deliveries/s);
* ``fill``: ``--fill-members`` members connect and join one room at once: the time until
  the last ``joined`` (total and per join, p99), and the frames and bytes the members
  received until the room went quiet (presence to everyone already in: O(n^2)).

Targets: ``bare`` (:mod:`loadtests.bare_relay`), ``default`` (chatserver, default safety
filters), ``none`` (chatserver, ``--filters ,``), ``before`` (chatserver with default
filters from another source tree, ``--before-tree``: a before-and-after in one run). Each
rate runs on each target in turn, ``--repeat`` times (interleaved, so the machine's other
work hits them alike); per rate and target the least disturbed trial counts. Every trial
reports the nodes' CPU per delivery (both nodes' user+system time over the trial, warm-up
and drain included, divided by the deliveries), Redis' CPU, and RSS; every scenario
reports RSS per connection of both nodes: connected (``welcome`` only), joined and idle,
and after each trial (active). A trial waits for late deliveries (until none came for 1 s,
at most 15 s), so ``lost`` (acked messages times members, less deliveries) is loss, not
lateness; ``refused`` counts says answered with an error frame, ``unanswered`` says with
neither ack nor error by then.
Output: a line per trial on stderr; on stdout a JSON line for the machine, then one per
scenario as it ends.

The load generator must not be what limits the run at 80,000 deliveries/s on 2 cores:

* members are :class:`loadtests.rawws.RawClient`s, which split frames by header and
  only count deliveries (a prefix check); one member in ``--sample`` also decodes its
  messages and times them (send time in the text); websockets' own client would cost
  about as much per frame as the server it measures;
* sending is one ``transport.write`` of a zero-masked frame;
* members are spread over ``--workers`` processes (:mod:`loadtests.fanout_worker`);
* each trial reports the generator's own CPU (``gen_cpu_us_per_delivery``, ``gen_cores``:
  all workers' CPU over the trial's wall time) and its loop lag (``gen_lag_p99_ms``: how
  late a worker's 5 ms pacing tick woke). A trial where a worker's lag is over 10 ms is
  marked ``gen_bound``: its figures describe the generator, not the target.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from loadtests import fanout_worker
from loadtests.bench_nodes import Relay, cpu_seconds, machine, nodes, percentile, relay, rss_kib

P99_OK_MS = 50.0
GEN_LAG_MS = 10.0
MAX_MISSES = 2
SHAPES = {"rooms": (100, 10, None), "spread": (200, 5, 2000.0), "big": (1, 500, 100.0)}
TARGETS = {
    "bare": ("bare", ""),
    "default": ("chatserver", "default"),
    "none": ("chatserver", "none"),
    "before": ("chatserver", "default"),  # from --before-tree
}
#: where the ``before`` target's nodes run from (``--before-tree``)
BEFORE_TREE: list[Path] = []


@dataclass
class Target:
    name: str
    index: int
    pids: list[int]
    ports: list[int]
    members: int = 0
    rss_base: int = 0
    memory: dict[str, Any] = field(default_factory=dict)


class Workers:
    """The generator's processes; a command goes to each, then every reply is read."""

    def __init__(self, count: int, loop: str) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs = []
        for index in range(count):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=fanout_worker.main, args=(index, theirs, loop), daemon=True)
            proc.start()
            self.pipes.append(mine)
            self.procs.append(proc)

    def call(self, per_worker: Sequence[tuple[Any, ...]]) -> list[dict[str, Any]]:
        for pipe, command in zip(self.pipes, per_worker, strict=True):
            pipe.send(command)
        replies = [pipe.recv() for pipe in self.pipes]
        for reply in replies:
            if "error" in reply:
                raise RuntimeError(f"load generator: {reply['error']}")
        return replies

    def same(self, *command: Any) -> list[dict[str, Any]]:
        return self.call([command] * len(self.pipes))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.same("exit")
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()

    def split(self, endpoints: list[fanout_worker.Endpoint]) -> list[list[Any]]:
        return [endpoints[i :: len(self.pipes)] for i in range(len(self.pipes))]


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@contextlib.contextmanager
def targets(
    names: Sequence[str], redis_url: str, capacity: int, rooms: int, fills: int = 0,
    count: int = 2,
) -> Iterator[list[Target]]:  # fmt: skip
    """Two nodes per target; target ``i``'s rooms are ``t<i>r<n>`` and ``t<i>fill<n>``
    (its topics: a chatserver room must be one)."""
    with contextlib.ExitStack() as stack:
        out = []
        for index, name in enumerate(names):
            kind, filters = TARGETS[name]
            topics = [f"t{index}r{r}" for r in range(rooms)]
            topics += [f"t{index}fill{r}" for r in range(fills)]
            procs = stack.enter_context(
                nodes(
                    kind, redis_url, topics, filters, capacity, node_prefix=f"t{index}n",
                    count=count,
                    **({"tree": BEFORE_TREE[0]} if name == "before" else {}),
                )  # fmt: skip
            )
            pids = [p.proc.pid for p in procs]
            out.append(Target(name, index, pids, [p.port for p in procs]))
            log(f"  {name}: node pids {pids}")
        time.sleep(1.0)  # let the nodes settle before the baseline RSS
        for t in out:
            t.rss_base = rss_kib(t.pids)
        yield out


def endpoints(t: Target, rooms: int, per_room: int, sample: int) -> list[fanout_worker.Endpoint]:
    return [
        (t.ports[i % len(t.ports)], f"t{t.index}r{r}", (r + i) % sample == 0)
        for r in range(rooms)
        for i in range(per_room)
    ]


def merged(counts: Sequence[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for count in counts:
        for key, n in count.items():
            out[key] = out.get(key, 0) + n
    return out


def per_conn(t: Target, rss: int) -> float:
    return round((rss - t.rss_base) / max(t.members, 1), 2)


def open_members(w: Workers, t: Target, eps: list[fanout_worker.Endpoint]) -> None:
    group = t.name
    w.call([("connect", group, part) for part in w.split(eps)])
    t.members = len(eps)
    time.sleep(0.5)
    t.memory["connected_kib_per_conn"] = per_conn(t, rss_kib(t.pids))
    replies = w.same("join", group)
    joins = [us for r in replies for us in r["join_us"]]
    t.memory["join_refusals"] = merged([r["refused"] for r in replies])
    time.sleep(1.0)  # presence of the last joins settles
    t.memory["joined_idle_kib_per_conn"] = per_conn(t, rss_kib(t.pids))
    t.memory["join_p99_ms"] = percentile(joins, 0.99)
    t.memory["rss_base_kib"] = t.rss_base


def offer(
    w: Workers, t: Target, redis: Relay, per_room: int, rate: float, seconds: float
) -> dict[str, Any]:
    warm = 1.0
    at = time.monotonic_ns() + 200_000_000
    counts0, shards0 = redis.counts(), [cpu_seconds([p]) for p in redis.pids]
    node0, wall0 = cpu_seconds(t.pids), time.monotonic()
    me0 = fanout_worker.cpu_self()
    n = len(w.pipes)
    replies = w.same("offer", t.name, rate / n, warm, seconds, at)
    wall = time.monotonic() - wall0
    node_cpu = cpu_seconds(t.pids) - node0
    shards = [cpu_seconds([p]) - c for p, c in zip(redis.pids, shards0, strict=True)]
    calls, reads = (
        sum(b[i] - a[i] for a, b in zip(counts0, redis.counts(), strict=True)) for i in (0, 1)
    )
    gen_cpu = sum(r["cpu_s"] for r in replies) + fanout_worker.cpu_self() - me0
    total = sum(r["messages"] for r in replies)
    sent = sum(r["sent"] for r in replies)
    expected = sum(r["sent_in_window"] for r in replies) * per_room / seconds
    latencies = [us for r in replies for us in r["latencies_us"]]
    p99 = percentile(latencies, 0.99)
    lag = max(r["lag_p99_ms"] for r in replies)
    acked = sum(r["acks"] for r in replies)
    lost = acked * per_room - total  # a refused say (an error frame) is not a lost one
    rss = rss_kib(t.pids)
    return {
        "target": t.name,
        "offered_msgs_s": rate,
        "expected_deliveries_s": round(expected),
        "deliveries_s": round(sum(r["window_rate"] for r in replies)),
        "lost": lost,
        "refused": sum(r["errors"] for r in replies),
        "unanswered": sent - acked - sum(r["errors"] for r in replies),
        "closed": sum(r["closed"] for r in replies),
        "p50_ms": round(percentile(latencies, 0.5), 2),
        "p99_ms": round(p99, 2),
        "node_cpu_us_per_delivery": round(node_cpu * 1e6 / max(total, 1), 2),
        "node_cores": round(node_cpu / wall, 3),
        "redis_cores": round(sum(shards) / wall, 3),
        "redis_cores_per_shard": [round(c / wall, 3) for c in shards],
        "redis_publishes_s": round(calls / wall),
        "redis_publishes_per_read": round(calls / max(reads, 1), 2),
        "gen_cpu_us_per_delivery": round(gen_cpu * 1e6 / max(total, 1), 2),
        "gen_cores": round(gen_cpu / wall, 3),
        "gen_lag_p99_ms": lag,
        "gen_bound": lag > GEN_LAG_MS,
        "rss_kib": rss,
        "active_kib_per_conn": per_conn(t, rss),
        "ok": lost <= 0 and acked == sent and p99 <= P99_OK_MS,
        "load": os.getloadavg(),
    }


def run_shape(
    w: Workers, shape: str, names: Sequence[str], rates: Sequence[float], args: argparse.Namespace
) -> dict[str, Any]:
    rooms, per_room, fixed = SHAPES[shape]
    rates = [fixed] if fixed else rates
    out: dict[str, Any] = {"rooms": rooms, "per_room": per_room, "load_before": os.getloadavg()}
    with (
        relay(args.shards) as redis,
        targets(names, redis.url, per_room + 8, rooms, count=args.nodes) as ts,
    ):
        for t in ts:
            open_members(w, t, endpoints(t, rooms, per_room, args.sample))
        results: dict[str, list[dict[str, Any]]] = {t.name: [] for t in ts}
        misses = dict.fromkeys(results, 0)
        for rate in rates:
            trials: dict[str, list[dict[str, Any]]] = {t.name: [] for t in ts}
            for _ in range(args.repeat):
                for t in ts:
                    if misses[t.name] < MAX_MISSES:
                        r = offer(w, t, redis, per_room, rate, args.seconds)
                        log(f"  {shape} {json.dumps(r)}")
                        trials[t.name].append(r)
            for name, runs in trials.items():
                if runs:
                    chosen = min(runs, key=lambda r: (not r["ok"], r["p99_ms"]))
                    results[name].append(chosen)
                    misses[name] = 0 if chosen["ok"] else misses[name] + 1
        for t in ts:
            w.same("close", t.name)
            ok = [r for r in results[t.name] if r["ok"]]
            out[t.name] = {
                "trials": results[t.name],
                "memory": t.memory,
                "highest_ok_msgs_s": max((r["offered_msgs_s"] for r in ok), default=None),
            }
    out["load_after"] = os.getloadavg()
    return out


def fill_once(w: Workers, t: Target, room: str, count: int) -> dict[str, Any]:
    eps = [(t.ports[i % len(t.ports)], room, False) for i in range(count)]
    group = f"{t.name}:{room}"
    at = time.monotonic_ns() + 300_000_000
    cpu0 = cpu_seconds(t.pids)
    replies = w.call([("fill", group, p, at) for p in w.split(eps)])
    spans = [s for r in replies for s in r["spans"]]
    refused = merged([r["refused"] for r in replies])
    quiet = w.same("quiet", group, 1.0, 120.0)
    cpu = cpu_seconds(t.pids) - cpu0
    t.members = count
    rss = rss_kib(t.pids)
    w.same("close", group)
    first = min(begin for begin, _, _ in spans)
    return {
        "target": t.name,
        "members": count,
        "fill_s": round((max(end for _, _, end in spans) - first) / 1e9, 3),
        "settle_s": round((max(q["last_ns"] for q in quiet) - first) / 1e9, 3),
        "join_p99_ms": percentile([(end - sent) // 1000 for _, sent, end in spans], 0.99),
        "connect_join_p99_ms": percentile([(e - b) // 1000 for b, _, e in spans], 0.99),
        "join_refusals": refused,  # each retried after a pause: counted in the times
        "frames_received": sum(q["frames"] for q in quiet),
        "bytes_received": sum(q["bytes"] for q in quiet),
        "node_cpu_s": round(cpu, 3),
        "kib_per_conn": per_conn(t, rss),
        "load": os.getloadavg(),
    }


def run_fill(w: Workers, names: Sequence[str], args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"members": args.fill_members, "load_before": os.getloadavg()}
    with (
        relay(args.shards) as redis,
        targets(names, redis.url, args.fill_members + 8, 0, args.repeat, args.nodes) as ts,
    ):
        runs: dict[str, list[dict[str, Any]]] = {t.name: [] for t in ts}
        for rep in range(args.repeat):
            for t in ts:
                r = fill_once(w, t, f"t{t.index}fill{rep}", args.fill_members)
                log(f"  fill {json.dumps(r)}")
                runs[t.name].append(r)
                time.sleep(1.0)
        for name, trials in runs.items():
            out[name] = {"trials": trials, "best": min(trials, key=lambda r: r["fill_s"])}
    out["load_after"] = os.getloadavg()
    return out


def default_loop() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.bench_relay --scenario ...")
    parser.add_argument("--scenario", default="rooms,spread,big,fill")
    parser.add_argument("--targets", default="bare,default,none")
    parser.add_argument("--rates", default="1000,2000,4000,6000,8000,10000")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=10, help="1 member in N times")
    parser.add_argument("--fill-members", type=int, default=500)
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default=default_loop())
    parser.add_argument("--nodes", type=int, default=2, help="nodes per target")
    parser.add_argument("--shards", type=int, default=1, help="Redis: >1 is a cluster")
    parser.add_argument(
        "--before-tree", type=Path, help="target 'before': chatserver from this source tree "
        "(e.g. `git archive <commit> | tar -x -C DIR`), default filters",
    )  # fmt: skip
    args = parser.parse_args(argv)
    names = args.targets.split(",")
    if "before" in names:
        if args.before_tree is None:
            parser.error("target 'before' needs --before-tree")
        BEFORE_TREE[:] = [args.before_tree.resolve()]
    unknown = [n for n in names if n not in TARGETS] + [
        s for s in args.scenario.split(",") if s not in SHAPES and s != "fill"
    ]
    if unknown:
        parser.error(f"unknown target or scenario: {', '.join(unknown)}")
    rates = [float(r) for r in args.rates.split(",")]
    report: dict[str, Any] = {"machine": machine(), "argv": sys.argv[1:]}
    log(f"machine: {json.dumps(report['machine'])}")
    print(json.dumps(report), flush=True)
    w = Workers(args.workers, args.loop)
    failed = 0
    try:
        for scenario in args.scenario.split(","):
            log(f"scenario {scenario}")
            try:
                if scenario == "fill":
                    result = run_fill(w, names, args)
                else:
                    result = run_shape(w, scenario, names, rates, args)
            except RuntimeError as exc:  # the other scenarios still run and report
                log(f"  {scenario} failed: {exc}")
                result, failed = {"error": str(exc)}, failed + 1
            print(json.dumps({scenario: result}), flush=True)
    finally:
        w.close()
    print(json.dumps({"load_after": os.getloadavg()}), flush=True)
    return 1 if failed else 0
