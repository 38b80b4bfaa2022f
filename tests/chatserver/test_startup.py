"""A node that cannot start says why in one line, with the exit code docs/operations.md gives."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from chatserver.startup import EXIT_BIND, EXIT_CONFIG, EXIT_REDIS, redacted_url
from tests.helpers.procs import free_port


def start(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chatserver", "--log-format", "json", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def assert_one_line(stderr: str, *needles: str) -> None:
    assert "Traceback" not in stderr
    lines = [ln for ln in stderr.splitlines() if ln.startswith("chatserver")]
    assert len(lines) == 1, stderr
    for needle in needles:
        assert needle in lines[0]


def test_port_in_use_is_one_line_and_exit_3() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        done = start("--port", str(port))
    assert done.returncode == EXIT_BIND
    assert_one_line(done.stderr, f"127.0.0.1:{port}", "already in use")


def test_unreachable_redis_is_one_line_and_exit_4_without_credentials() -> None:
    url = f"redis://someone:hunter2@127.0.0.1:{free_port()}/0"
    done = start("--port", "0", "--redis-url", url)
    assert done.returncode == EXIT_REDIS
    assert_one_line(done.stderr, "cannot reach Redis", "127.0.0.1")
    assert "hunter2" not in done.stderr and "someone" not in done.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--redis-url", "http://x"), "redis_url must start with"),
        (("--filters", "crisis,nope"), "unknown safety filter 'nope'"),
        (("--port", "70000"), "port must be"),
    ],
)
def test_bad_setting_is_one_line_and_exit_2(args: tuple[str, ...], needle: str) -> None:
    done = start("--port", "0", *args) if "--port" not in args else start(*args)
    assert done.returncode == EXIT_CONFIG
    assert "Traceback" not in done.stderr
    assert needle in done.stderr


def test_redacted_url_drops_credentials() -> None:
    assert redacted_url("rediss://u:p@h.example:6380/2") == "rediss://h.example:6380/2"
    assert redacted_url("redis+cluster://h:7000") == "redis+cluster://h:7000"
