"""``chat-loadtest``: run a scenario against chatserver nodes and report.

    chat-loadtest SCENARIO [--target URL ... | --target spawn | --target bare]
                  [--workers N] [--duration S] [--out DIR] [--scale-rate F] [--scale-count F]

Exit status: 0 when every service level of the scenario holds, 1 when one is missed,
2 when the run could not be made (bad scenario, a node that did not start).
See docs/loadtest.md.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import re
import secrets
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live as RichLive
from rich.table import Table

from loadtests import report
from loadtests import targets as tg
from loadtests.runner import Live, RunOptions, run
from loadtests.scenario import Scenario, ScenarioError, bundled_names, load

EXIT_OK, EXIT_MISSED, EXIT_ERROR = 0, 1, 2
MAX_DOUBLINGS = 8


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="chat-loadtest",
        description="Load-test chatserver with a TOML scenario. Bundled scenarios: "
        + ", ".join(bundled_names()),
    )
    p.add_argument("scenario", help="a TOML file, or the name of a bundled scenario")
    p.add_argument("--target", action="append", default=[], metavar="URL|spawn|bare",
                   help="node URL (repeat for several nodes; members of a room are spread "
                   "over them); 'spawn' starts a local chatserver with the scenario's "
                   "server_args; 'bare' starts the bare relay (transport baseline)")
    p.add_argument("--workers", type=int, help="worker processes (default: the scenario's)")
    p.add_argument("--duration", type=float, help="steady seconds (default: the scenario's)")
    p.add_argument("--out", type=Path, default=Path("loadtest-results"),
                   help="directory for the JSON result and the HTML report")
    p.add_argument("--scale-rate", type=float, default=1.0,
                   help="multiply every message rate (and divide think times) by F")
    p.add_argument("--scale-count", type=float, default=1.0,
                   help="multiply every population's count by F")
    p.add_argument("--redis-url", default="",
                   help="Redis for --target bare (default: a throwaway local redis-server)")
    p.add_argument("--server-pid", type=int, action="append", default=[],
                   help="pid of a local node (in --target order): its RSS and CPU are reported")
    p.add_argument("--listener-secret", default="",
                   help="the nodes' --listener-secret, to mint listener tokens "
                   "(default: the scenario's)")
    p.add_argument("--baseline", type=Path,
                   help="a result JSON (e.g. of --target bare) to show ratios against")
    p.add_argument("--find-max", type=int, nargs="?", const=3, default=0, metavar="STEPS",
                   help="search the largest --scale-rate that meets the service levels: "
                   "double from --scale-rate until a run misses, then bisect STEPS times "
                   "(default 3)")
    p.add_argument("--no-live", action="store_true", help="no live display")
    return p


def _live_table(live: Live) -> Table:
    t = Table(show_header=False, box=None)
    remaining = max(0.0, live.total - live.elapsed)
    t.add_row("phase", f"{live.phase}   {live.elapsed:5.0f}s elapsed, {remaining:4.0f}s left")
    open_conns = sum(live.open_by_worker.values())
    server = "" if live.server_connections is None else f"   server: {live.server_connections:,.0f}"
    t.add_row("connections", f"{open_conns:,}{server}")
    sec = live.last_second
    t.add_row("per second", f"sent {sec['sent']:,}   delivered {sec['delivered']:,}   "
              f"connected {sec['connected']:,}")
    p99 = "-" if live.p99_ms is None else f"{live.p99_ms:.1f} ms"
    t.add_row("delivery p99 (5 s)", p99)
    t.add_row("errors", f"{live.errors:,}")
    cpu = " ".join(f"{c:.0%}" for _, c in sorted(live.cpu_by_worker.items()))
    lag = max(live.lag_by_worker.values(), default=0.0)
    server_cpu = "" if live.server_cpu is None else f"   server: {live.server_cpu:.0%}"
    t.add_row("harness CPU", f"{cpu}   loop lag {lag:.0f} ms{server_cpu}")
    return t


@contextlib.contextmanager
def _targets(
    kind: list[str], server_args: tuple[str, ...], secret: str, redis_url: str
) -> Iterator[tuple[tuple[str, ...], tuple[int, ...], str]]:
    """(urls, local pids, label) for the run; starts and stops spawned nodes."""
    started: list[Any] = []
    try:
        if kind == ["spawn"]:
            node = tg.spawn_chatserver(server_args, secret)
            started.append(node)
            yield (node.url,), (node.pid,), "spawned chatserver"
        elif kind == ["bare"]:
            if not redis_url:
                redis = tg.RedisProcess().start()
                started.append(redis)
                redis_url = redis.url
            relay = tg.spawn_bare(redis_url)
            started.append(relay)
            yield (relay.url,), (relay.pid,), "bare relay"
        else:
            tg.check_reachable(tuple(kind))
            yield tuple(kind), (), ""
    finally:
        for thing in reversed(started):
            if isinstance(thing, tg.RedisProcess):
                thing.cleanup()
            else:
                thing.stop()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "run"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console(stderr=True)
    try:
        scenario = load(args.scenario)
    except ScenarioError as exc:
        console.print(f"[red]scenario:[/] {exc}")
        return EXIT_ERROR
    if args.duration:
        scenario = scenario.with_changes(duration=args.duration)
    if args.scale_count != 1.0:
        scenario = scenario.scaled(count=args.scale_count)
    if args.target == ["bare"]:
        dropped = [p.name for p in scenario.populations if p.role in ("seeker", "listener")]
        kept = tuple(p for p in scenario.populations if p.role not in ("seeker", "listener"))
        if not kept:
            console.print("[red]--target bare:[/] the bare relay has rooms only, and this "
                          "scenario has no group or idle population")
            return EXIT_ERROR
        if dropped:
            console.print(f"[yellow]--target bare:[/] skipping {', '.join(dropped)} "
                          "(pairing is not in the bare relay)")
        no_trip = tuple(dataclasses.replace(p, trip=()) for p in kept)
        no_pairing = dataclasses.replace(scenario.slo, pairing_p99_ms=None)
        scenario = scenario.with_changes(populations=no_trip, slo=no_pairing)
    try:
        if args.find_max:
            return _find_max(scenario, args, console)
        result = run_once(scenario.scaled(rate=args.scale_rate), args, console)
    except tg.TargetError as exc:
        console.print(f"[red]target:[/] {exc}")
        return EXIT_ERROR
    return EXIT_OK if result["passed"] else EXIT_MISSED


def run_once(scenario: Scenario, args: argparse.Namespace, console: Console) -> dict[str, Any]:
    """One run: start targets if asked, run, judge, write the files, print the summary."""
    workers = args.workers or scenario.workers
    bare = args.target == ["bare"]
    secret = args.listener_secret or scenario.listener_secret
    if args.target == ["spawn"] and not secret:
        secret = secrets.token_hex(16)
    baseline = json.loads(args.baseline.read_text()) if args.baseline else None
    with _targets(args.target or list(scenario.targets), scenario.server_args, secret,
                  args.redis_url) as (urls, pids, label):
        pids = pids or tuple(args.server_pid)
        if not args.target and scenario.server_args:
            console.print(f"this scenario expects nodes started with: "
                          f"{' '.join(scenario.server_args)}")
        result = _run(scenario, RunOptions(urls, workers, bare, pids, secret, label),
                      console, live=not args.no_live and console.is_terminal)
    result["slo"] = report.evaluate(result, scenario.slo)
    result["passed"] = all(r["ok"] for r in result["slo"])
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"{_slug(scenario.name)}-{time.strftime('%Y%m%d-%H%M%S')}"
    json_path, html_path = args.out / f"{stem}.json", args.out / f"{stem}.html"
    report.write_json(result, json_path)
    report.write_html(result, html_path)
    report.summary(result, Console(), baseline)
    console.print(f"result: {json_path}\nreport: {html_path}")
    return result


def _find_max(scenario: Scenario, args: argparse.Namespace, console: Console) -> int:
    """The largest --scale-rate whose run meets every service level: double from
    --scale-rate until a run misses, then bisect. Each trial is a full run (with
    --target spawn, on a fresh node)."""
    trials: list[tuple[float, dict[str, Any]]] = []

    def trial(factor: float) -> bool:
        console.rule(f"--scale-rate {factor:g}")
        result = run_once(scenario.scaled(rate=factor), args, console)
        trials.append((factor, result))
        return bool(result["passed"])

    low, high = 0.0, args.scale_rate
    for _ in range(MAX_DOUBLINGS):
        if not trial(high):
            break
        low, high = high, high * 2
    else:
        high = 0.0  # never missed: the maximum is above what was tried
    for _ in range(args.find_max if high else 0):
        mid = (low + high) / 2
        if trial(mid):
            low = mid
        else:
            high = mid
    table = Table(title="find-max: trials")
    for col in ("scale-rate", "sent/s", "deliveries/s", "delivery p99 ms", "lost", "result"):
        table.add_column(col, justify="right")
    for factor, r in sorted(trials, key=lambda t: t[0]):
        p99 = r["latency_ms"].get("delivery", {}).get("p99")
        table.add_row(f"{factor:g}", f"{r['rates']['sent_per_s']:,.1f}",
                      f"{r['rates']['deliveries_per_s']:,.1f}",
                      "-" if p99 is None else f"{p99:,.1f}",
                      str(r["loss"]["deliveries"] + r["loss"]["by_id"]),
                      "ok" if r["passed"] else "MISSED")
    Console().print(table)
    if low == 0:
        console.print("[red]find-max:[/] even the first rate missed a service level")
        return EXIT_MISSED
    best = next(r for f, r in trials if f == low)
    console.print(
        f"maximum sustainable --scale-rate: {low:g} "
        f"({best['rates']['sent_per_s']:,.1f} messages/s, "
        f"{best['rates']['deliveries_per_s']:,.1f} deliveries/s); "
        f"50%: --scale-rate {low / 2:g}, 90%: --scale-rate {low * 0.9:g}"
    )
    return EXIT_OK


def _run(scenario: Scenario, opts: RunOptions, console: Console, *, live: bool) -> dict[str, Any]:
    if not live:
        console.print(f"running {scenario.name}: {scenario.clients:,} clients, "
                      f"{scenario.total_seconds:.0f} s, {opts.workers} workers")
        return run(scenario, opts)
    with RichLive(_live_table(Live(total=scenario.total_seconds)), console=console,
                  refresh_per_second=2, transient=False) as display:
        last = [0.0]

        def update(state: Live) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.5:
                last[0] = now
                display.update(_live_table(state))

        opts.on_update = update
        return run(scenario, opts)


if __name__ == "__main__":
    sys.exit(main())
