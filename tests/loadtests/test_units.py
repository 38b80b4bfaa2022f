"""The harness's pure parts: scenarios, markers, service levels, metrics parsing, report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loadtests.phrases import TRIP_PHRASES, TextMaker, marker, parse_marker
from loadtests.report import evaluate, write_html
from loadtests.runner import _rss_trend
from loadtests.scenario import ScenarioError, Slo, bundled_names, load, parse
from loadtests.stats import IntervalStats, Totals
from loadtests.targets import parse_metrics


def minimal(**extra: Any) -> dict[str, Any]:
    return {"population": [{"role": "group", "count": 4}], **extra}


def test_every_bundled_scenario_loads() -> None:
    names = bundled_names()
    assert {"smoke", "steady", "huge_room", "storm", "soak", "idle"} <= set(names)
    for name in names:
        assert load(name).clients > 0


def test_unknown_keys_are_errors() -> None:
    with pytest.raises(ScenarioError, match="durration"):
        parse(minimal(durration=5))
    with pytest.raises(ScenarioError, match="population\\[0\\]: unknown key"):
        parse({"population": [{"role": "group", "count": 1, "rat": 1}]})
    with pytest.raises(ScenarioError, match="role"):
        parse({"population": [{"role": "lurker", "count": 1}]})


def test_ramp_offsets_follow_the_stages() -> None:
    sc = parse(minimal(ramp=[{"seconds": 10, "to": 0.5}, {"seconds": 0, "to": 1.0}]))
    assert sc.start_offset(0, 4) == pytest.approx(5.0)  # 1/4 of the way: half of stage 1
    assert sc.start_offset(1, 4) == pytest.approx(10.0)
    assert sc.start_offset(3, 4) == pytest.approx(10.0)  # the second stage is a step
    assert parse(minimal()).start_offset(3, 4) == 0.0  # no ramp: all at once
    assert sc.total_seconds == 10 + sc.duration + sc.drain


def test_scaling_rates_and_counts() -> None:
    sc = parse({"population": [{"role": "group", "count": 10, "rate": 2, "think": [1, 3]}]})
    scaled = sc.scaled(rate=0.5, count=2)
    assert scaled.populations[0].rate == 1.0
    assert scaled.populations[0].think == (2.0, 6.0)
    assert scaled.clients == 20


def test_marker_round_trip_has_no_digits() -> None:
    m = marker(123456, 7, 1_795_000_000_123_456)
    assert not any(ch.isdigit() for ch in m)
    assert parse_marker(m + " hello there") == (123456, 7, 1_795_000_000_123_456)
    assert parse_marker("qq broken") is None
    assert parse_marker("hello") is None


def test_text_maker_sizes_and_trips() -> None:
    import random

    maker = TextMaker(random.Random(1), (50, 60), (("crisis", 1.0),))
    kind = maker.kind()
    text = maker.text(marker(1, 2, 3), kind)
    assert kind == "crisis"
    assert any(phrase in text for phrase in TRIP_PHRASES["crisis"])
    assert len(text) >= 50


def fake_result(p99_us: int, lost: int = 0) -> dict[str, Any]:
    stats = IntervalStats()
    stats.record("delivery", p99_us)
    stats.counts["delivered"] += 1
    totals = Totals()
    totals.add(stats.snapshot(), 0)
    from loadtests.stats import percentiles_ms

    return {
        "scenario": "t", "description": "", "target": "x", "started_at": "now",
        "clients": 1, "workers": 1,
        "errors": {}, "counts": dict(totals.counts), "failures": [],
        "latency_ms": {"delivery": percentiles_ms(totals.hist["delivery"])},
        "loss": {"deliveries": lost, "by_id": 0},
        "rates": {"deliveries_per_s": 5.0, "sent_per_s": 1.0},
        "harness": {"cpu_total_mean": 0.1, "warnings": []},
        "series": totals.series(), "distribution": {"delivery": totals.distribution()},
        "conditions": {"load_before": [0.1], "load_after": [0.2], "cpus": 2},
    }


def test_service_levels() -> None:
    slo = Slo(delivery_p99_ms=10, loss=0, min_deliveries_per_s=4, pairing_p99_ms=100)
    rows = {r["check"]: r["ok"] for r in evaluate(fake_result(5_000), slo)}
    assert rows == {
        "delivery p99 ms <=": True,
        "lost deliveries <=": True,
        "deliveries/s >=": True,
        "pairing p99 ms <=": False,  # nothing measured cannot pass
    }
    rows = {r["check"]: r["ok"] for r in evaluate(fake_result(50_000, lost=1), slo)}
    assert not rows["delivery p99 ms <="] and not rows["lost deliveries <="]


def test_html_report_is_self_contained(tmp_path: Path) -> None:
    result = fake_result(5_000)
    result["slo"] = evaluate(result, Slo(delivery_p99_ms=10))
    result["passed"] = True
    path = tmp_path / "r.html"
    write_html(result, path)
    page = path.read_text()
    assert page.count("<svg") == 3
    assert "<script" not in page and "<link" not in page and "src=" not in page


def test_parse_metrics_keeps_chatserver_samples() -> None:
    body = (
        "# HELP chatserver_connections x\n"
        "chatserver_connections 12.0\n"
        'chatserver_errors_total{code="not_in_room"} 3.0\n'
        "chatserver_messages_created 1.7e9\n"
        "process_cpu_seconds_total 4.0\n"
    )
    assert parse_metrics(body) == {
        "chatserver_connections": 12.0,
        'chatserver_errors_total{code="not_in_room"}': 3.0,
    }


def test_trip_phrases_trip_their_filter_and_filler_trips_none() -> None:
    import random

    from chatserver.safety.base import Action, Filter, FilterInput
    from chatserver.safety.crisis import CrisisFilter
    from chatserver.safety.pii import PiiFilter
    from chatserver.safety.trauma import TraumaDumpFilter

    filters: dict[str, Filter] = {
        "crisis": CrisisFilter(),
        "trauma": TraumaDumpFilter(),
        "pii": PiiFilter(),
    }
    for kind, flt in filters.items():
        maker = TextMaker(random.Random(3), (15, 300), ((kind, 1.0),))
        for n in range(10):
            text = maker.text(marker(5, n, 1_795_000_000_000_000), maker.kind())
            assert flt.check(FilterInput(text)).action is not Action.ALLOW, (kind, text)
    neutral = TextMaker(random.Random(4), (15, 300))
    for n in range(100):
        text = neutral.text(marker(5, n, 1_795_000_000_000_000))
        for flt in filters.values():
            assert flt.check(FilterInput(text)).action is Action.ALLOW, text


def test_rss_trend_reports_growth_over_the_second_half() -> None:
    mib = 2**20
    flat = [(float(t), 100 * mib) for t in range(300)]
    leaking = [(float(t), (100 + t // 10) * mib) for t in range(300)]
    assert _rss_trend(flat)["rss_growth_second_half_mib"] == 0
    trend = _rss_trend(leaking)
    assert trend["rss_growth_second_half_mib"] == 14  # 129 MiB at the end, 115 at the middle
    assert len(trend["rss_series_mib"]) <= 150
    assert trend["rss_series_mib"][0] == [0.0, 100.0]
