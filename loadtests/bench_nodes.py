"""What the relay benchmarks share: a throwaway Redis, two nodes of a target, /proc readings."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import redis

from loadtests.targets import RedisClusterProcess, RedisProcess

ROOT = Path(__file__).resolve().parents[1]


class Proc:
    """A child process that logs ``{"event": "listening", "port": P}`` on stderr."""

    def __init__(self, args: list[str], cwd: Path = ROOT) -> None:
        self.proc = subprocess.Popen(
            args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self.port = 0
        self.ready = threading.Event()
        assert self.proc.stderr is not None
        self.reader = threading.Thread(target=self._read, args=(self.proc.stderr,), daemon=True)
        self.reader.start()
        if not self.ready.wait(20):
            self.stop()
            raise RuntimeError(f"{args[2]} did not start")

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if event.get("event") == "listening":
                    self.port = int(event["port"])
                    self.ready.set()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.reader.join(5)  # EOF once the process is gone
        if self.proc.stderr is not None and not self.reader.is_alive():
            self.proc.stderr.close()


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    redis = RedisProcess().start()
    try:
        yield redis.url
    finally:
        redis.cleanup()


@contextlib.contextmanager
def redis_process() -> Iterator[RedisProcess]:
    """A throwaway redis-server; its pid too (the report gives Redis' CPU per trial)."""
    redis = RedisProcess().start()
    try:
        yield redis
    finally:
        redis.cleanup()


@dataclass
class Relay:
    """The Redis under test: one server, or the masters of a cluster (one per shard)."""

    url: str  # what the nodes are given
    servers: list[RedisProcess]

    @property
    def pids(self) -> list[int]:
        return [s.proc.pid for s in self.servers if s.proc is not None]

    def counts(self) -> list[tuple[int, int]]:
        """Per server: the messages it published and the reads it processed. Their ratio
        over a trial is the publishes per write the nodes sent (other commands are few
        then). A chatserver message is one script whose PUBLISH Redis counts too; the
        bare relay's is a PUBLISH: either way one PUBLISH (SPUBLISH) per message."""
        out = []
        for server in self.servers:
            client = redis.Redis.from_url(server.url)
            try:
                stats = client.info("commandstats")
                reads = int(client.info("stats")["total_reads_processed"])
            finally:
                client.close()
            calls = sum(
                int(stats.get(f"cmdstat_{name}", {}).get("calls", 0))
                for name in ("publish", "spublish")
            )
            out.append((calls, reads))
        return out


@contextlib.contextmanager
def relay(shards: int = 1) -> Iterator[Relay]:
    """A throwaway Redis: one server, or a cluster of ``shards`` masters (no replicas)."""
    if shards <= 1:
        with redis_process() as server:
            yield Relay(server.url, [server])
        return
    cluster = RedisClusterProcess(shards).start()
    try:
        yield Relay(cluster.url, cluster.nodes)
    finally:
        cluster.cleanup()


@contextlib.contextmanager
def nodes(
    target: str,
    redis_url: str,
    rooms: list[str],
    filters: str,
    capacity: int = 64,
    node_prefix: str = "bench",
    tree: Path = ROOT,
    count: int = 2,
) -> Iterator[list[Proc]]:
    """``count`` nodes of ``target`` (``bare`` or ``chatserver``); chatserver's limits
    raised so that none binds, ``capacity`` members per room. ``tree``: the source tree the nodes
    run from (another commit's, unpacked, for a before-and-after in one run)."""
    py = sys.executable
    procs: list[Proc] = []
    try:
        for index in range(count):
            if target == "bare":
                args = [py, "-m", "loadtests.bare_relay", "--port", "0", "--redis-url", redis_url]
            else:
                args = [
                    py, "-m", "chatserver", "--port", "0", "--redis-url", redis_url,
                    "--node-id", f"{node_prefix}{index}", "--log-format", "json",
                    "--log-level", "info", "--topics", ",".join(rooms),
                    "--rate-per-second", "100000", "--rate-burst", "100000",
                    "--max-connections-per-address", "100000", "--room-capacity", str(capacity),
                ]  # fmt: skip
                if filters != "default":
                    args += ["--filters", ","]
            procs.append(Proc(args, tree))
        yield procs
    finally:
        for p in procs:
            p.stop()


def percentile(values: list[int], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000.0


def cpu_seconds(pids: Sequence[int]) -> float:
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def rss_kib(pids: Sequence[int]) -> int:
    """Resident set size of the processes, summed (KiB)."""
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def machine() -> dict[str, object]:
    return {"nproc": os.cpu_count(), "cpu": cpu_model(), "load": os.getloadavg()}
