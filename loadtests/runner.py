"""The coordinator: start the workers, gather their ticks, watch the nodes, build the result.

Workers are separate processes (``spawn``: nothing of the parent's event loop or sockets
is inherited). They wait until the coordinator sets the start time, so every worker's ramp
begins together, then report once a second. The coordinator adds their counts and
histograms, samples each node's ``/metrics`` and (for local nodes) memory and CPU, and
drives the live display. The result is a plain dict: the JSON file, the summary table and
the HTML report are all made from it.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import platform
import queue
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from loadtests import targets as tg
from loadtests.scenario import Scenario
from loadtests.stats import HISTOGRAMS, Totals, percentiles_ms
from loadtests.worker import WorkerArgs
from loadtests.worker import main as worker_main

#: Seconds between every worker being ready and the start (they build their people).
STARTUP = 0.5
STARTUP_TIMEOUT = 60.0
SCRAPE_EVERY = 2.0
#: A worker busier than this share of a core, or whose loop lags more than LAG_MS, is
#: the bottleneck: its latencies include its own delay.
CPU_BOTTLENECK = 0.85
LAG_MS = 50.0


@dataclass
class NodeWatch:
    """A node under test: its URL, and its pid when it runs on this machine."""

    url: str
    pid: int | None = None
    metrics_before: dict[str, float] | None = None
    metrics_after: dict[str, float] | None = None
    rss_before: int | None = None
    rss_peak: int | None = None
    rss_after: int | None = None
    cpu_before: float | None = None
    cpu_after: float | None = None
    connections_peak: float = 0.0
    rss_at_peak_connections: int | None = None
    #: (seconds since start, RSS bytes) at every sample: a leak shows as growth
    rss_series: list[tuple[float, int]] = field(default_factory=list)
    started: float = 0.0

    def sample(self, scrape: bool) -> None:
        if self.pid is not None:
            rss = tg.rss_bytes(self.pid)
            if rss is not None:
                self.rss_after = rss
                self.rss_peak = max(self.rss_peak or 0, rss)
                self.rss_series.append((round(time.monotonic() - self.started, 1), rss))
            self.cpu_after = tg.cpu_seconds_of(self.pid)
        if scrape:
            metrics = tg.scrape(self.url, timeout=1.0)
            if metrics is not None:
                self.metrics_after = metrics
                conns = metrics.get("chatserver_connections", 0.0)
                if conns >= self.connections_peak:
                    self.connections_peak = conns
                    self.rss_at_peak_connections = self.rss_after

    def start(self, scrape: bool) -> None:
        self.started = time.monotonic()
        if self.pid is not None:
            self.rss_before = tg.rss_bytes(self.pid)
            self.cpu_before = tg.cpu_seconds_of(self.pid)
        if scrape:
            self.metrics_before = tg.scrape(self.url)


@dataclass
class Live:
    """What the live display shows; updated as ticks arrive."""

    elapsed: float = 0.0
    total: float = 0.0
    phase: str = "starting"
    open_by_worker: dict[int, int] = field(default_factory=dict)
    cpu_by_worker: dict[int, float] = field(default_factory=dict)
    lag_by_worker: dict[int, float] = field(default_factory=dict)
    server_connections: float | None = None
    server_cpu: float | None = None
    last_second: Counter[str] = field(default_factory=Counter)
    p99_ms: float | None = None
    errors: int = 0


@dataclass
class RunOptions:
    targets: tuple[str, ...]
    workers: int
    bare: bool = False
    pids: tuple[int, ...] = ()
    listener_secret: str = ""
    target_label: str = ""
    on_update: Callable[[Live], None] | None = None


def run(scenario: Scenario, opts: RunOptions) -> dict[str, Any]:
    scrape = scenario.scrape_metrics and not opts.bare
    nodes = [
        NodeWatch(url, opts.pids[i] if i < len(opts.pids) else None)
        for i, url in enumerate(opts.targets)
    ]
    load_before = os.getloadavg()
    for node in nodes:
        node.start(scrape)
    ctx = mp.get_context("spawn")
    sink = ctx.Queue()
    stop = ctx.Event()
    start = ctx.Value("d", 0.0)
    procs = []
    for index in range(opts.workers):
        args = WorkerArgs(scenario, index, opts.workers, opts.targets, opts.bare,
                          opts.listener_secret)
        proc = ctx.Process(target=worker_main, args=(args, sink, stop, start), daemon=True,
                           name=f"loadtest-worker-{index}")
        proc.start()
        procs.append(proc)
    start_wall = _wait_ready(sink, procs, start)
    totals = Totals()
    live = Live(total=scenario.total_seconds)
    finals: dict[int, dict[str, Any]] = {}
    failures: list[str] = []
    cpu_series: dict[int, list[tuple[int, float, float]]] = {}
    try:
        _gather(scenario, opts, sink, procs, nodes, scrape, start_wall, totals, live, finals,
                failures, cpu_series)
    except KeyboardInterrupt:
        failures.append("interrupted")
    finally:
        stop.set()
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
    for node in nodes:
        node.sample(scrape)
    return _result(scenario, opts, totals, finals, failures, cpu_series, nodes, start_wall,
                   load_before)


def _wait_ready(sink: Any, procs: list[Any], start: Any) -> float:
    """Wait until every worker has started (imports done), then set the start time."""
    ready = 0
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while ready < len(procs) and time.monotonic() < deadline:
        with contextlib.suppress(queue.Empty):
            if sink.get(timeout=0.2)[0] == "ready":
                ready += 1
        if not all(p.is_alive() for p in procs):
            break
    start_wall = time.time() + STARTUP
    start.value = start_wall
    return start_wall


def _gather(
    scenario: Scenario,
    opts: RunOptions,
    sink: Any,
    procs: list[Any],
    nodes: list[NodeWatch],
    scrape: bool,
    start_wall: float,
    totals: Totals,
    live: Live,
    finals: dict[int, dict[str, Any]],
    failures: list[str],
    cpu_series: dict[int, list[tuple[int, float, float]]],
) -> None:
    hard_end = start_wall + scenario.total_seconds + 30.0
    next_scrape = 0.0
    last_server_cpu: tuple[float, float] | None = None
    while len(finals) + len(failures) < len(procs) and time.time() < hard_end:
        with contextlib.suppress(queue.Empty):
            msg = sink.get(timeout=0.2)
            kind, index = msg[0], msg[1]
            if kind == "tick":
                _, _, wall, snap, gauges = msg
                second = int(wall - start_wall)
                totals.add(snap, second)
                live.open_by_worker[index] = gauges["open"]
                live.cpu_by_worker[index] = gauges["cpu"]
                live.lag_by_worker[index] = gauges["lag_ms"]
                cpu_series.setdefault(index, []).append((second, gauges["cpu"], gauges["lag_ms"]))
            elif kind == "final":
                finals[index] = msg[2]
            elif kind == "failed":
                failures.append(f"worker {index}: {msg[2]}")
        if not any(p.is_alive() for p in procs) and sink.empty():
            break
        now = time.time()
        if now >= next_scrape:
            next_scrape = now + SCRAPE_EVERY
            for node in nodes:
                node.sample(scrape)
            live.server_connections = (
                sum(n.metrics_after.get("chatserver_connections", 0) for n in nodes
                    if n.metrics_after) if scrape else None
            )
            cpu = sum(n.cpu_after or 0 for n in nodes if n.pid)
            if any(n.pid for n in nodes):
                if last_server_cpu is not None and now > last_server_cpu[0]:
                    live.server_cpu = (cpu - last_server_cpu[1]) / (now - last_server_cpu[0])
                last_server_cpu = (now, cpu)
        _update_live(scenario, live, totals, now - start_wall)
        if opts.on_update is not None:
            opts.on_update(live)
    if len(finals) + len(failures) < len(procs):
        failures.append("some workers did not finish in time")


def _update_live(scenario: Scenario, live: Live, totals: Totals, elapsed: float) -> None:
    live.elapsed = max(0.0, elapsed)
    ramp = scenario.ramp_seconds
    if elapsed < 0:
        live.phase = "starting"
    elif elapsed < ramp:
        live.phase = "ramp"
    elif elapsed < ramp + scenario.duration:
        live.phase = "steady"
    elif elapsed < scenario.total_seconds:
        live.phase = "drain"
    else:
        live.phase = "closing"
    last = int(elapsed) - 1
    sec = totals.seconds.get(last)
    live.last_second = Counter(sec.counts) if sec is not None else Counter()
    live.p99_ms = totals.recent_p99_ms(last)
    live.errors = sum(totals.errors.values())


# ---------------------------------------------------------------------- the result


def _loss(finals: dict[int, dict[str, Any]], totals: Totals) -> dict[str, int]:
    room_max: dict[str, int] = {}
    members: dict[str, list[int]] = {}
    for final in finals.values():
        for room, seq in final["room_max"].items():
            room_max[room] = max(room_max.get(room, 0), seq)
        for room, seqs in final["rooms"].items():
            members.setdefault(room, []).extend(seqs)
    # a member still in the room should have every message up to the highest seq that any
    # member saw or was acknowledged (members who left may have seen an earlier incarnation
    # of the room, so their figures are not used)
    tail = 0
    for room, seqs in members.items():
        top = max(room_max.get(room, 0), max(seqs))
        tail += sum(top - s for s in seqs)
    gaps = totals.counts["lost_seq"]
    return {
        "seq_gaps": gaps,
        "tail": tail,
        "deliveries": gaps + tail,
        "by_id": totals.counts["lost_id"],
    }


def _harness(
    cpu_series: dict[int, list[tuple[int, float, float]]], scenario: Scenario
) -> dict[str, Any]:
    lo, hi = scenario.ramp_seconds, scenario.ramp_seconds + scenario.duration
    warnings = []
    per_worker = {}
    for index, rows in sorted(cpu_series.items()):
        steady = [r for r in rows if lo <= r[0] < hi] or rows
        cpu_mean = sum(r[1] for r in steady) / len(steady)
        cpu_max = max(r[1] for r in steady)
        lag_max = max(r[2] for r in steady)
        busy = sum(1 for r in steady if r[1] >= CPU_BOTTLENECK)
        per_worker[index] = {"cpu_mean": cpu_mean, "cpu_max": cpu_max, "lag_ms_max": lag_max}
        if busy >= max(2, len(steady) // 4):
            warnings.append(
                f"worker {index} used {cpu_mean:.0%} of a core on average (peak {cpu_max:.0%}): "
                "the client side is a bottleneck; use more --workers or fewer clients"
            )
        if lag_max > LAG_MS:
            warnings.append(
                f"worker {index}'s event loop lagged up to {lag_max:.0f} ms: latencies include "
                "the harness's own delay"
            )
    total = sum(w["cpu_mean"] for w in per_worker.values())
    load = os.getloadavg()[0]
    cpus = os.cpu_count() or 1
    if load > cpus:
        warnings.append(
            f"the machine was busy (load average {load:.1f} on {cpus} CPUs): the harness and "
            "the nodes shared it with other work, so latencies and rates understate the node"
        )
    return {"workers": per_worker, "cpu_total_mean": total, "warnings": warnings}


def _server(nodes: list[NodeWatch], duration: float) -> dict[str, Any]:
    out = []
    for node in nodes:
        row: dict[str, Any] = {"url": node.url, "pid": node.pid}
        before, after = node.metrics_before or {}, node.metrics_after or {}
        if after:
            row["metrics"] = {
                k: v - before.get(k, 0.0) if _is_counter(k) else v for k, v in after.items()
            }
            row["connections_peak"] = node.connections_peak
        if node.rss_before is not None:
            row["rss_before"] = node.rss_before
            row["rss_peak"] = node.rss_peak
            row["rss_after"] = node.rss_after
            peak_conns = node.connections_peak
            rss_at = node.rss_at_peak_connections or node.rss_peak
            if peak_conns and rss_at:
                row["rss_per_connection"] = (rss_at - node.rss_before) / peak_conns
            if node.rss_series:
                row.update(_rss_trend(node.rss_series))
        if node.cpu_before is not None and node.cpu_after is not None:
            row["cpu_seconds"] = node.cpu_after - node.cpu_before
        out.append(row)
    return {"nodes": out}


def _rss_trend(series: list[tuple[float, int]]) -> dict[str, Any]:
    """The RSS over time (at most 120 points, MiB) and its growth over the second half of
    the run: after warm-up a leak-free node levels off, so steady growth there is a leak
    (or a cache still filling) worth a look."""
    step = max(1, len(series) // 120)
    points = [[t, round(rss / 2**20, 2)] for t, rss in series[::step]]
    middle = series[len(series) // 2][1]
    return {
        "rss_series_mib": points,
        "rss_growth_second_half_mib": round((series[-1][1] - middle) / 2**20, 2),
    }


def _is_counter(name: str) -> bool:
    base = name.split("{", 1)[0]
    return base.endswith(("_total", "_count", "_sum", "_bucket"))


def _result(
    scenario: Scenario,
    opts: RunOptions,
    totals: Totals,
    finals: dict[int, dict[str, Any]],
    failures: list[str],
    cpu_series: dict[int, list[tuple[int, float, float]]],
    nodes: list[NodeWatch],
    start_wall: float,
    load_before: tuple[float, float, float],
) -> dict[str, Any]:
    lo, hi = scenario.ramp_seconds, scenario.ramp_seconds + scenario.duration
    steady = Counter[str]()
    for t, sec in totals.seconds.items():
        if lo <= t < hi:
            steady.update(sec.counts)
    counts = dict(totals.counts)
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "target": opts.target_label or ",".join(opts.targets),
        "targets": list(opts.targets),
        "bare": opts.bare,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start_wall)),
        "workers": opts.workers,
        "clients": scenario.clients,
        "seconds": {"ramp": lo, "steady": scenario.duration, "drain": scenario.drain},
        "conditions": {
            "cpus": os.cpu_count(),
            "load_before": list(load_before),
            "load_after": list(os.getloadavg()),
            "python": sys.version.split()[0],
            "machine": platform.platform(),
        },
        "counts": counts,
        "errors": dict(totals.errors),
        "rates": {
            "deliveries_per_s": steady["delivered"] / scenario.duration,
            "sent_per_s": steady["sent"] / scenario.duration,
            "connects_per_s_peak": max(
                (s.counts["connected"] for s in totals.seconds.values()), default=0
            ),
        },
        "latency_ms": {name: percentiles_ms(totals.hist[name]) for name in HISTOGRAMS},
        "loss": _loss(finals, totals),
        "harness": _harness(cpu_series, scenario),
        "server": _server(nodes, scenario.total_seconds),
        "series": totals.series(),
        "distribution": {
            name: totals.distribution(name)
            for name in HISTOGRAMS
            if totals.hist[name].get_total_count()
        },
        "failures": failures,
    }
