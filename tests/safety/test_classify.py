"""The classify-stream command: one JSON line out per good line in, nothing for bad ones."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from chatserver.safety.classify import run_classify
from chatserver.safety.pipeline import build_pipeline


def classify(lines: list[str]) -> tuple[int, list[dict[str, object]]]:
    out = io.StringIO()
    code = run_classify(io.StringIO("\n".join(lines) + "\n"), out,
                        build_pipeline(["crisis", "trauma_dump", "pii"]))
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_stream_contract() -> None:
    code, rows = classify([
        json.dumps({"id": "a", "text": "i want to end my life", "lang": "en"}),
        json.dumps({"id": "b", "text": "nice weather", "lang": "xx"}),
        json.dumps({"id": "c", "text": "my email is x@y.org"}),
    ])
    assert code == 0
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    assert rows[0]["labels"] == ["crisis"] and rows[0]["action"] == "escalate"
    assert rows[1]["labels"] == [] and rows[1]["action"] == "allow"
    assert rows[2]["labels"] == ["pii"]
    scores = rows[0]["scores"]
    assert isinstance(scores, dict) and {"crisis", "trauma_dump"} <= set(scores)


def test_bad_lines_are_skipped_without_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, rows = classify([
        "not json at all secret-words",
        json.dumps(["a", "list"]),
        json.dumps({"id": "no-text"}),
        "",
        json.dumps({"id": "ok", "text": ""}),
    ])
    assert code == 0
    assert [r["id"] for r in rows] == ["ok"]
    err = capsys.readouterr().err
    assert "line 1" in err and "secret-words" not in err


def test_module_survives_invalid_utf8_and_surrogates() -> None:
    data = (b'{"id": "s", "text": "lone \\ud800 i want to die"}\n'
            b"\xff\xfe not utf-8\n"
            b'{"id": "t", "text": "fine"}\n')
    proc = subprocess.run(
        [sys.executable, "-m", "chatserver.safety.classify"],
        input=data, capture_output=True, timeout=60, check=True,
    )
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["s", "t"]
    assert rows[0]["labels"] == ["crisis"]


def test_runs_as_module() -> None:
    line = json.dumps({"id": "m1", "text": "i w4nt t0 d13", "lang": "en"}) + "\n"
    proc = subprocess.run(
        [sys.executable, "-m", "chatserver.safety.classify"],
        input=line, capture_output=True, text=True, timeout=60, check=True,
    )
    row = json.loads(proc.stdout)
    assert row["id"] == "m1" and row["labels"] == ["crisis"]
