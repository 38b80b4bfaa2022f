"""What a worker measures, in a form that crosses a process boundary cheaply.

Each worker keeps an :class:`IntervalStats` and, once a second, turns it into a plain dict
(:meth:`IntervalStats.snapshot`: counters, and HDR histograms encoded as bytes) and starts a
fresh one. The coordinator adds those snapshots into a :class:`Totals`, which also keeps a
per-second series for the report's latency-over-time plot.

Latencies are recorded in microseconds, from 1 us to 5 minutes, 3 significant digits.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]

LOWEST_US = 1
HIGHEST_US = 300_000_000
DIGITS = 3
#: histogram name -> what it measures (the report's labels)
HISTOGRAMS = {
    "delivery": "end-to-end delivery, sender to each recipient",
    "ack": "say to ack, at the sender",
    "connect": "connection setup, TCP connect to welcome",
    "pairing": "pairing wait, request_support to paired",
}
PERCENTILES = (50.0, 90.0, 99.0, 99.9)


def new_histogram() -> Any:
    return HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)


def clamp(us: int) -> int:
    return min(max(us, LOWEST_US), HIGHEST_US)


@dataclass
class IntervalStats:
    """One worker's counts since its last report."""

    counts: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    hist: dict[str, Any] = field(
        default_factory=lambda: {name: new_histogram() for name in HISTOGRAMS}
    )

    def record(self, name: str, us: int) -> None:
        self.hist[name].record_value(clamp(us))

    def snapshot(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "errors": dict(self.errors),
            "hist": {
                name: h.encode() for name, h in self.hist.items() if h.get_total_count()
            },
        }


def percentiles_ms(h: Any) -> dict[str, float]:
    if not h.get_total_count():
        return {}
    out = {f"p{p:g}": h.get_value_at_percentile(p) / 1000 for p in PERCENTILES}
    out["max"] = h.get_max_value() / 1000
    out["mean"] = h.get_mean_value() / 1000
    out["count"] = h.get_total_count()
    return out


@dataclass
class Second:
    """One second of the run, for the time series."""

    t: int
    counts: Counter[str] = field(default_factory=Counter)
    delivery: Any = field(default_factory=new_histogram)


@dataclass
class Totals:
    counts: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    hist: dict[str, Any] = field(
        default_factory=lambda: {name: new_histogram() for name in HISTOGRAMS}
    )
    seconds: dict[int, Second] = field(default_factory=dict)

    def add(self, snap: dict[str, Any], second: int) -> None:
        self.counts.update(snap["counts"])
        self.errors.update(snap["errors"])
        sec = self.seconds.get(second)
        if sec is None:
            sec = self.seconds[second] = Second(second)
        sec.counts.update(snap["counts"])
        for name, blob in snap["hist"].items():
            h = HdrHistogram.decode(blob)
            self.hist[name].add(h)
            if name == "delivery":
                sec.delivery.add(h)

    def series(self) -> list[dict[str, Any]]:
        """Per second: counts and delivery latency percentiles (ms)."""
        out = []
        for t in sorted(self.seconds):
            sec = self.seconds[t]
            row: dict[str, Any] = {"t": t, **sec.counts}
            lat = percentiles_ms(sec.delivery)
            if lat:
                row["p50_ms"] = lat["p50"]
                row["p99_ms"] = lat["p99"]
                row["max_ms"] = lat["max"]
            out.append(row)
        return out

    def recent_p99_ms(self, last: int, window: int = 5) -> float | None:
        h = new_histogram()
        for t in range(last - window + 1, last + 1):
            sec = self.seconds.get(t)
            if sec is not None:
                h.add(sec.delivery)
        return h.get_value_at_percentile(99) / 1000 if h.get_total_count() else None

    def distribution(self, name: str = "delivery") -> list[tuple[float, float]]:
        """(percentile, ms) points for the latency-distribution plot, log-spaced tail."""
        h = self.hist[name]
        if not h.get_total_count():
            return []
        points = []
        for nines in range(0, 50):
            p = 100.0 * (1 - 0.5 ** (nines / 4))
            points.append((p, h.get_value_at_percentile(p) / 1000))
            if p > 99.999:
                break
        points.append((100.0, h.get_max_value() / 1000))
        return points
