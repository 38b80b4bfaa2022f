"""The other side: nodes the harness starts itself (``--target spawn`` / ``bare``), the
server figures it scrapes from ``/metrics``, and a node's memory read from /proc.

``spawn`` starts ``python -m chatserver`` on a free loopback port with the scenario's
``server_args``; ``bare`` starts the relay benchmark's bare relay (``loadtests.bare_relay``,
websockets + redis.asyncio, the transport's own cost) with a throwaway ``redis-server``
unless a Redis URL is given. Both are stopped when the run ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO

START_TIMEOUT = 20.0
ROOT = Path(__file__).resolve().parents[1]


class TargetError(RuntimeError):
    """A node the harness had to start did not come up, or a named target cannot be reached."""


def check_reachable(urls: tuple[str, ...], timeout: float = 5.0) -> None:
    """Raise :class:`TargetError` naming the first URL whose TCP port does not answer.

    A run against a dead target would otherwise spend its whole duration failing to
    connect and then report a missed service level (exit 1), where the documented status
    for a run that could not be made is 2.
    """
    from urllib.parse import urlsplit

    for url in urls:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "wss" else 80)
        try:
            with socket.create_connection((parts.hostname or "", port), timeout=timeout):
                pass
        except OSError as exc:
            raise TargetError(f"cannot reach {url}: {exc.strerror or type(exc).__name__}") from exc


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Spawned:
    """A child process that logs ``{"event": "listening", "port": P}`` on stderr."""

    def __init__(self, argv: list[str], what: str) -> None:
        self.argv = argv
        self.what = what
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0
        self.lines: list[str] = []
        self._ready = threading.Event()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def start(self) -> Spawned:
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        threading.Thread(target=self._read, args=(self.proc.stderr,), daemon=True).start()
        if not self._ready.wait(START_TIMEOUT):
            self.stop()
            tail = "".join(self.lines[-10:])
            raise TargetError(f"{self.what} did not start:\n{tail}")
        return self

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            if len(self.lines) < 200:
                self.lines.append(line)
            if self._ready.is_set():
                continue
            with contextlib.suppress(ValueError, KeyError, TypeError):
                event = json.loads(line)
                if event.get("event") == "listening":
                    self.port = int(event["port"])
                    self._ready.set()

    def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def spawn_chatserver(args: tuple[str, ...], listener_secret: str = "") -> Spawned:
    """``python -m chatserver`` on a free port ("listening" is logged at info: keep it)."""
    argv = [sys.executable, "-m", "chatserver", "--port", "0", "--log-format", "json"]
    if listener_secret and "--listener-secret" not in args:
        argv += ["--listener-secret", listener_secret]
    return Spawned([*argv, *args], "chatserver").start()


class RedisProcess:
    """A throwaway redis-server on a free loopback port, with nothing saved to disk: the
    one the benchmarks, the harness's ``--target bare`` and the tests all start."""

    def __init__(
        self,
        port: int | None = None,
        *extra: str,
        preexec_fn: Callable[[], None] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.extra = extra
        self.preexec_fn = preexec_fn  # e.g. die with the parent (benchmarks)
        self.dir = tempfile.mkdtemp(prefix="chatserver-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisProcess:
        path = shutil.which("redis-server")
        if path is None:
            raise TargetError("redis-server is not installed (the test command installs it)")
        self.proc = subprocess.Popen(
            [path, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, *self.extra],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=self.preexec_fn,  # noqa: PLW1509 - only a prctl, before exec
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self.proc.poll() is None:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return self
            time.sleep(0.05)
        self.stop()
        raise TargetError("redis-server did not start")

    def stop(self) -> None:
        """Stop the server; :meth:`start` may run it again on the same port."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class RedisClusterProcess:
    """A throwaway Redis Cluster: ``masters`` redis-servers with cluster mode on, free
    loopback ports, slots spread by ``redis-cli --cluster create`` and no replicas."""

    def __init__(self, masters: int = 3) -> None:
        self.nodes = [
            # the bus port is named: the default (port + 10000) may be taken or above 65535
            RedisProcess(
                None,
                "--cluster-enabled",
                "yes",
                "--cluster-port",
                str(free_port()),
                "--cluster-node-timeout",
                "2000",
            )
            for _ in range(masters)
        ]

    @property
    def url(self) -> str:
        """The URL a chatserver node takes: any node is a seed."""
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    def start(self) -> RedisClusterProcess:
        try:
            for node in self.nodes:
                node.start()
            cli = shutil.which("redis-cli")
            assert cli, "redis-cli is not installed (the test command installs it)"
            addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
            subprocess.run(
                [
                    cli,
                    "--cluster",
                    "create",
                    *addresses,
                    "--cluster-replicas",
                    "0",
                    "--cluster-yes",
                ],
                check=True,
                capture_output=True,
                timeout=START_TIMEOUT,
            )
            deadline = time.monotonic() + START_TIMEOUT
            while not all(self._ok(cli, node.port) for node in self.nodes):
                if time.monotonic() > deadline:
                    raise RuntimeError("redis cluster did not converge")
                time.sleep(0.1)
        except BaseException:
            self.cleanup()
            raise
        return self

    @staticmethod
    def _ok(cli: str, port: int) -> bool:
        out = subprocess.run(
            [cli, "-p", str(port), "cluster", "info"], capture_output=True, text=True, timeout=5
        ).stdout
        return "cluster_state:ok" in out

    def cleanup(self) -> None:
        for node in self.nodes:
            node.cleanup()


def spawn_bare(redis_url: str) -> Spawned:
    if not (ROOT / "loadtests" / "bare_relay.py").exists():
        raise TargetError("loadtests/bare_relay.py is not there yet (the relay benchmark)")
    port = free_port()
    argv = [sys.executable, "-m", "loadtests.bare_relay", "--port", str(port),
            "--redis-url", redis_url]
    return Spawned(argv, "bare relay").start()


# ---------------------------------------------------------------------- measuring nodes


def http_url(ws_url: str) -> str:
    return "http" + ws_url[2:] if ws_url.startswith("ws") else ws_url


def scrape(ws_url: str, timeout: float = 2.0) -> dict[str, float] | None:
    """``chatserver_*`` samples from the node's /metrics (name{labels} -> value)."""
    url = http_url(ws_url).rstrip("/") + "/metrics"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (loopback)
            body = resp.read().decode()
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return parse_metrics(body)


def parse_metrics(body: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in body.splitlines():
        if not line.startswith("chatserver_"):
            continue
        if "_created" in line.split(" ", 1)[0]:
            continue  # prometheus_client's creation timestamps
        name, _, value = line.rpartition(" ")
        with contextlib.suppress(ValueError):
            out[name] = float(value)
    return out


def rss_bytes(pid: int) -> int | None:
    """Resident memory of a local process (Linux /proc), or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def cpu_seconds_of(pid: int) -> float | None:
    """User + system CPU seconds of a local process (Linux /proc), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks
