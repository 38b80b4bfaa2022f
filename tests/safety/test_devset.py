"""Quality on the shared labelled dev set (skipped when the shared folder is absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatserver.safety.base import FilterInput
from chatserver.safety.pipeline import build_pipeline

DEVSET = Path(__file__).parents[2] / ".." / "shared" / "safety" / "devset.jsonl"


def test_devset_targets() -> None:
    if not DEVSET.exists():
        pytest.skip(f"no dev set at {DEVSET}")
    rows = [json.loads(line) for line in DEVSET.read_text(encoding="utf-8").splitlines() if line]
    p = build_pipeline(["crisis", "trauma_dump"])
    counts = {lab: [0, 0, 0, 0] for lab in ("crisis", "trauma_dump")}  # tp fp fn tn
    for r in rows:
        labels = p.run_sync(FilterInput(r["text"], lang=r.get("lang"))).labels
        for lab, c in counts.items():
            pred, gold = lab in labels, bool(r[lab])
            c[(0 if gold else 1) if pred else (2 if gold else 3)] += 1
    tp, fp, fn, tn = counts["crisis"]
    assert tp / (tp + fn) >= 0.95 and fp / (fp + tn) <= 0.05
    tp, fp, fn, _ = counts["trauma_dump"]
    assert tp / (tp + fn) >= 0.85 and tp / (tp + fp) >= 0.85


def test_anchor_index_hides_nothing_on_devset() -> None:
    """The fast path (rules gated by anchor words) agrees with running every rule."""
    if not DEVSET.exists():
        pytest.skip(f"no dev set at {DEVSET}")
    from chatserver.safety.crisis import assess

    for line in DEVSET.read_text(encoding="utf-8").splitlines():
        if line:
            text = json.loads(line)["text"]
            assert (assess(text).score >= 1.0) == (assess(text, gated=False).score >= 1.0)
