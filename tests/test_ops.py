"""What operators get (docs/ops): the Prometheus alert rules pass ``promtool check rules``
and their unit tests, a live node's /metrics passes ``promtool check metrics``, and every
metric the rules and the Grafana dashboard use is one the server exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.helpers.procs import ROOT, ServerProcess, chatserver

OPS = ROOT / "docs" / "ops"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="needs promtool (Debian's prometheus; scripts/test.sh installs it)"
)
#: Metrics the rules and dashboard use that the server does not export yet. The test below
#: fails once one is exported: then drop it here.
PENDING: set[str] = set()
SUFFIXES = re.compile(r"_(bucket|count|sum)$")


@pytest.fixture(scope="module")
def exposition() -> Iterator[str]:
    """A node's /metrics after some traffic of every kind, so labelled series exist."""
    with chatserver("--filters", "pii,crisis") as srv:
        yield traffic_then_metrics(srv)


def traffic_then_metrics(srv: ServerProcess) -> str:
    with connect(srv.url + "/", subprotocols=["chat.v1.json"], open_timeout=10) as ws:  # type: ignore[list-item]
        ws.recv(timeout=10)  # welcome
        for frame in (
            {"type": "join", "room": "general", "ref": "1"},
            {"type": "say", "room": "general", "text": "hello there", "ref": "2"},
            {"type": "no_such_frame", "ref": "3"},
            {"type": "request_support", "topic": "grief", "ref": "4"},
            {"type": "ping", "ref": "5"},
        ):
            ws.send(json.dumps(frame))
        seen: set[str] = set()
        while "5" not in seen:
            reply = json.loads(ws.recv(timeout=10))
            seen.add(str(reply.get("ref")))
    with urllib.request.urlopen(srv.http + "/metrics", timeout=10) as response:
        body: bytes = response.read()
    return body.decode()


def families(exposition: str) -> set[str]:
    return set(re.findall(r"^# TYPE (\S+) ", exposition, re.MULTILINE))


def used_metrics(text: str) -> set[str]:
    return {SUFFIXES.sub("", m) for m in re.findall(r"\bchatserver_[a-z_]+", text)}


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], input=stdin, capture_output=True, text=True, timeout=60, cwd=OPS
    )


@needs_promtool
def test_the_alert_rules_are_valid() -> None:
    done = promtool("check", "rules", "alerts.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 10 rules found" in done.stdout


@needs_promtool
def test_the_alerts_fire_when_they_should_and_not_before() -> None:
    done = promtool("test", "rules", "alerts.test.yml")
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_the_metrics_exposition_passes_promtool(exposition: str) -> None:
    assert 'chatserver_errors_total{code="unknown_type"}' in exposition  # traffic was counted
    done = promtool("check", "metrics", stdin=exposition)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


@pytest.mark.parametrize("name", ["alerts.yml", "grafana-dashboard.json"])
def test_every_metric_used_is_exported(exposition: str, name: str) -> None:
    used = used_metrics((OPS / name).read_text("utf-8"))
    exported = families(exposition)
    assert used, name
    missing = sorted(used - exported - PENDING)
    assert not missing, f"{name} uses metrics the server does not export: {missing}"
    landed = sorted(PENDING & exported)
    assert not landed, f"now exported, drop from PENDING: {landed}"


def test_the_dashboard_is_grafana_json() -> None:
    dash = json.loads((OPS / "grafana-dashboard.json").read_text("utf-8"))
    assert dash["uid"] and dash["title"] == "chatserver"
    panels = [p for p in dash["panels"] if p["type"] != "row"]
    assert len(panels) >= 15
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    for p in panels:
        assert p["targets"] and all(t["expr"].strip() for t in p["targets"]), p["title"]
        assert p["description"], p["title"]
        box = p["gridPos"]
        assert box["x"] >= 0 and box["x"] + box["w"] <= 24, p["title"]
    variables = {v["name"] for v in dash["templating"]["list"]}
    assert variables == {"datasource", "instance"}


def test_the_operations_page_links_the_files() -> None:
    page = Path(ROOT / "docs" / "operations.md").read_text("utf-8")
    for name in ("ops/alerts.yml", "ops/alerts.test.yml", "ops/grafana-dashboard.json"):
        assert name in page, name
