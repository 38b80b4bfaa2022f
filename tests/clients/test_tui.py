"""chat-client end to end, with stdin from a pipe: what a person at a terminal would read."""

from __future__ import annotations

import socket
import subprocess
import sys

from tests.helpers.procs import chatserver


def client(url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clients.tui", "--url", url, *args],
        input=stdin, capture_output=True, text=True, timeout=60,
    )


def test_help_join_leave_and_own_line_once() -> None:
    with chatserver() as node:
        lines = "hello room\n/help\n/join grief\n/leave\n/nope\n/quit\n"
        done = client(node.url, "--topic", "anxiety", stdin=lines)
    out = done.stdout
    assert done.returncode == 0, done.stderr
    assert out.count("hello room") == 1  # shown once, as relayed by the server
    assert "you: hello room" in out
    assert "/join TOPIC" in out  # /help listed the commands, and was not sent to the room
    assert "You joined #grief" in out
    assert "You left #grief" in out and "talking in #anxiety" in out
    assert "There is no /nope command" in out
    assert "Traceback" not in done.stderr


def test_crisis_lines_are_shown_to_the_writer() -> None:
    with chatserver("--filters", "crisis") as node:
        done = client(node.url, "--topic", "anxiety",
                      stdin="i have the pills in front of me and i want to die tonight\n")
    assert done.returncode == 0, done.stderr
    assert "You don't have to face this alone" in done.stdout
    assert "call" in done.stdout or "http" in done.stdout


def test_dead_server_is_one_line_and_exit_1() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = client(f"ws://127.0.0.1:{port}")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "cannot reach" in done.stderr


def test_unknown_topic_is_one_line_and_exit_2() -> None:
    with chatserver() as node:
        done = client(node.url, "--topic", "no-such-topic")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "Topics here:" in done.stderr
