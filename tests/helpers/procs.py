"""Real processes for integration tests: chatserver nodes and redis-server instances, each on
a free loopback port, always stopped at the end. Never the machine's own Redis."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from loadtests.targets import RedisClusterProcess as RedisClusterProcess  # re-exported
from loadtests.targets import RedisProcess as RedisProcess  # the one helper, re-exported
from loadtests.targets import free_port as free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0


class ServerProcess:
    """``python -m chatserver`` on port 0; reads the bound port from its first log line."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.args = ["--port", "0", "--log-format", "json", *args]
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0
        self.lines: list[str] = []
        self._reader: threading.Thread | None = None
        self._listening = threading.Event()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        return self.spawn().ready()

    def spawn(self) -> ServerProcess:
        """Start the process without waiting for it: several nodes start side by side,
        then :meth:`ready` waits for each."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chatserver", *self.args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        self._reader = threading.Thread(target=self._read, args=(self.proc.stderr,), daemon=True)
        self._reader.start()
        return self

    def ready(self) -> ServerProcess:
        """Wait until the node listens; fail at once if it exits first (a bad flag)."""
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        while not self._listening.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("chatserver did not start:\n" + "".join(self.lines[-20:]))
        return self

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.append(line)
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if event.get("event") == "listening":
                    self.port = int(event["port"])
                    self._listening.set()

    def events(self) -> list[dict[str, Any]]:
        out = []
        for line in self.lines:
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 15.0) -> int:
        assert self.proc is not None
        code = self.proc.wait(timeout)
        self._finish()
        return code

    def _finish(self) -> None:
        if self._reader is not None:
            self._reader.join(5)
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self._finish()

    def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.signal(signal.SIGINT)
        try:
            return self.wait()
        except subprocess.TimeoutExpired:
            self.kill()
            raise


@contextlib.contextmanager
def chatserver(*args: str, env: dict[str, str] | None = None) -> Iterator[ServerProcess]:
    server = ServerProcess(*args, env=env).start()
    try:
        yield server
    finally:
        server.kill()


def http_get(url: str) -> tuple[int, bytes]:
    """(status, body) of a plain GET, error statuses included (a test reads both)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
