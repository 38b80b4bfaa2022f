"""The bundled smoke scenario against a real chatserver process (loopback only, bounded:
a few seconds of load), and a scenario whose threshold cannot hold, which must fail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.procs import ROOT, ServerProcess, chatserver

RUN_TIMEOUT = 60


def run_loadtest(*args: str, out: Path) -> tuple[int, dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-m", "loadtests.cli", *args, "--out", str(out), "--no-live"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    results = sorted(out.glob("*.json"))
    assert results, f"no result file (exit {proc.returncode}):\n{proc.stderr}\n{proc.stdout}"
    result: dict[str, Any] = json.loads(results[-1].read_text())
    return proc.returncode, result


@pytest.fixture(scope="module")
def node() -> Any:
    with chatserver("--max-connections-per-address", "1000") as server:
        yield server


def test_smoke_scenario_passes_with_no_loss(node: ServerProcess, tmp_path: Path) -> None:
    code, result = run_loadtest("smoke", "--target", node.url, "--duration", "3", out=tmp_path)
    assert code == 0, result["slo"]
    assert result["passed"] is True
    assert result["counts"]["connected"] == 16
    assert result["counts"]["sent"] > 0
    assert result["counts"]["delivered"] > result["counts"]["sent"]  # fan-out to rooms of 8
    assert result["loss"] == {"seq_gaps": 0, "tail": 0, "deliveries": 0, "by_id": 0}
    assert result["errors"] == {}
    assert result["latency_ms"]["delivery"]["count"] == result["counts"]["delivered"]
    assert result["rates"]["deliveries_per_s"] > 0
    node_stats = result["server"]["nodes"][0]
    assert node_stats["metrics"]["chatserver_messages_total"] == result["counts"]["acked"]
    html = next(tmp_path.glob("*.html")).read_text()
    assert html.count("<svg") >= 2 and "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )


def test_missed_threshold_exits_non_zero(node: ServerProcess, tmp_path: Path) -> None:
    scenario = tmp_path / "strict.toml"
    scenario.write_text(
        """
name = "strict"
duration = 1.5
drain = 0.5
workers = 1

[[population]]
role = "group"
count = 4
topics = ["grief"]
rate = 4.0

[slo]
delivery_p99_ms = 0.001
loss = 0
"""
    )
    out = tmp_path / "out"
    code, result = run_loadtest(str(scenario), "--target", node.url, out=out)
    assert code == 1
    assert result["passed"] is False
    missed = [row["check"] for row in result["slo"] if not row["ok"]]
    assert missed == ["delivery p99 ms <="]
    assert result["counts"]["delivered"] > 0


def test_churn_and_ping_only_idle_keep_counts_exact(node: ServerProcess, tmp_path: Path) -> None:
    """People who leave and come back (rooms empty and reopen, seq from 1 again) and idle
    sockets that only ping: no false loss, every session counted."""
    scenario = tmp_path / "churn.toml"
    scenario.write_text(
        """
name = "churn"
duration = 5
drain = 1
workers = 1

[[population]]
role = "group"
count = 6
topics = ["loneliness"]
rate = 2.0
session_seconds = 2

[[population]]
role = "idle"
count = 2
join = false

[slo]
loss = 0
errors = 0
"""
    )
    code, result = run_loadtest(str(scenario), "--target", node.url, out=tmp_path / "out")
    assert code == 0, result["slo"]
    assert result["counts"]["churned"] >= 6
    assert result["counts"]["connected"] >= 6 * 2 + 2
    assert result["loss"]["deliveries"] == 0 and result["loss"]["by_id"] == 0


def test_dead_target_exits_2_at_once(tmp_path: Path) -> None:
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "loadtests.cli", "smoke", "--target", f"ws://127.0.0.1:{port}",
         "--duration", "30", "--out", str(tmp_path), "--no-live"],
        cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT,
    )
    assert proc.returncode == 2
    assert f"cannot reach ws://127.0.0.1:{port}" in proc.stderr
    assert time.monotonic() - started < 20  # not the scenario's 30 s
    assert not list(tmp_path.glob("*.json"))
