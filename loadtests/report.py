"""From a result dict: the service-level verdict, the summary table, the JSON file and a
self-contained HTML report (inline SVG, no script, no external resource)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from loadtests.scenario import Slo

# ---------------------------------------------------------------------- service levels


def _lat(result: dict[str, Any], name: str, key: str) -> float | None:
    value = result["latency_ms"].get(name, {}).get(key)
    return float(value) if value is not None else None


def evaluate(result: dict[str, Any], slo: Slo) -> list[dict[str, Any]]:
    """One row per threshold set in the scenario: limit, actual, ok."""
    errors = sum(result["errors"].values())
    connect_failures = result["counts"].get("connect_failed", 0)
    checks: list[tuple[str, float | None, float | None, bool]] = [
        ("delivery p99 ms <=", slo.delivery_p99_ms, _lat(result, "delivery", "p99"), False),
        ("delivery p50 ms <=", slo.delivery_p50_ms, _lat(result, "delivery", "p50"), False),
        ("connect p99 ms <=", slo.connect_p99_ms, _lat(result, "connect", "p99"), False),
        ("pairing p99 ms <=", slo.pairing_p99_ms, _lat(result, "pairing", "p99"), False),
        ("lost deliveries <=", slo.loss, result["loss"]["deliveries"] + result["loss"]["by_id"],
         False),
        ("errors <=", slo.errors, errors, False),
        ("connect failures <=", slo.connect_failures, connect_failures, False),
        ("deliveries/s >=", slo.min_deliveries_per_s, result["rates"]["deliveries_per_s"], True),
        ("harness CPU (cores) <=", slo.max_harness_cpu, result["harness"]["cpu_total_mean"],
         False),
    ]
    rows = []
    for name, limit, actual, at_least in checks:
        if limit is None:
            continue
        # nothing measured: the threshold cannot be shown to hold
        ok = actual is not None and (actual >= limit if at_least else actual <= limit)
        rows.append({"check": name, "limit": limit, "actual": actual, "ok": ok})
    if result["failures"]:
        rows.append({"check": "harness ran to the end", "limit": None,
                     "actual": "; ".join(result["failures"]), "ok": False})
    return rows


# ---------------------------------------------------------------------- terminal


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return ""
    return f"x{value / base:.2f}"


def summary(
    result: dict[str, Any], console: Console, baseline: dict[str, Any] | None = None
) -> None:
    base = baseline or {}
    table = Table(title=f"chat-loadtest: {result['scenario']} -> {result['target']}",
                  show_lines=False)
    table.add_column("measure")
    table.add_column("value", justify="right")
    if baseline:
        table.add_column(f"vs {baseline['target']}", justify="right")

    def row(name: str, value: Any, base_value: Any = None, digits: int = 1) -> None:
        cells = [name, _fmt(value, digits)]
        if baseline:
            num = value if isinstance(value, int | float) else None
            ref = base_value if isinstance(base_value, int | float) else None
            cells.append(_ratio(num, ref))
        table.add_row(*cells)

    c, bc = result["counts"], base.get("counts", {})
    row("clients / workers", f"{result['clients']} / {result['workers']}")
    row("connected (sessions)", c.get("connected", 0), bc.get("connected"))
    row("messages sent", c.get("sent", 0), bc.get("sent"))
    row("deliveries", c.get("delivered", 0), bc.get("delivered"))
    rates, brates = result["rates"], base.get("rates", {})
    row("deliveries/s (steady)", rates["deliveries_per_s"], brates.get("deliveries_per_s"))
    row("sent/s (steady)", rates["sent_per_s"], brates.get("sent_per_s"))
    for name in ("delivery", "ack", "connect", "pairing"):
        lat = result["latency_ms"].get(name) or {}
        blat = base.get("latency_ms", {}).get(name) or {}
        if not lat:
            continue
        for key in ("p50", "p99", "p99.9", "max"):
            row(f"{name} {key} ms", lat.get(key), blat.get(key), 2)
    loss = result["loss"]
    row("lost (seq gaps + not received by the end)", loss["deliveries"])
    row("lost by id (acked, never echoed)", loss["by_id"])
    for kind in ("held", "crisis", "escalation", "notice"):
        if c.get(f"rx_{kind}"):
            row(f"{kind} frames", c[f"rx_{kind}"])
    for code, n in sorted(result["errors"].items(), key=lambda kv: -kv[1])[:12]:
        row(f"error {code}", n)
    h = result["harness"]
    row("harness CPU (cores, mean)", h["cpu_total_mean"], digits=2)
    for node in result["server"]["nodes"]:
        if "rss_per_connection" in node:
            row("server RSS per connection KiB", node["rss_per_connection"] / 1024)
        if node.get("rss_peak"):
            row("server RSS peak MiB", node["rss_peak"] / 2**20)
        if "rss_growth_second_half_mib" in node:
            row("server RSS growth, 2nd half MiB", node["rss_growth_second_half_mib"])
        if node.get("cpu_seconds") is not None:
            row("server CPU seconds", node["cpu_seconds"], digits=1)
        if "connections_peak" in node:
            row("server connections peak", int(node["connections_peak"]))
    console.print(table)
    for warning in h["warnings"]:
        console.print(f"[yellow]warning:[/] {warning}")
    slo = Table(title="service levels")
    for col in ("check", "limit", "actual", "result"):
        slo.add_column(col)
    for r in result.get("slo", []):
        slo.add_row(r["check"], _fmt(r["limit"]), _fmt(r["actual"], 2),
                    "[green]ok[/]" if r["ok"] else "[red]MISSED[/]")
    if result.get("slo"):
        console.print(slo)


def write_json(result: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(result, indent=1, default=str) + "\n")


# ---------------------------------------------------------------------- HTML


W, H, PAD = 720, 260, 48
TOP = 30  # room above the plot for the legend, so it never sits on a line
RIGHT = 40  # room right of the plot, so the last tick label is not clipped


def nice_ticks(lo: float, hi: float, target: int = 6) -> list[float]:
    """Evenly spaced round values covering [lo, hi] (steps of 1, 2 or 5 times a power of 10),
    so a time axis reads 0 5 10 15 s rather than 0 1 2 4 5 6."""
    import math

    span = max(hi - lo, 1e-9)
    raw = span / max(target - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    count = int((hi - first) / step + 1e-9) + 1
    return [round(first + i * step, 10) for i in range(count)]


def _label(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _polyline(points: list[tuple[float, float]], sx: Any, sy: Any, color: str) -> str:
    if not points:
        return ""
    coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in points)
    return f'<polyline fill="none" stroke="{color}" stroke-width="1.6" points="{coords}"/>'


def _axes(x_label: str, y_label: str, x_ticks: list[tuple[float, str]],
          y_ticks: list[tuple[float, str]]) -> str:
    parts = [
        f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - RIGHT}" y2="{H - PAD}" stroke="#444"/>',
        f'<line x1="{PAD}" y1="{TOP}" x2="{PAD}" y2="{H - PAD}" stroke="#444"/>',
        f'<text x="{W / 2}" y="{H - 8}" text-anchor="middle">{html.escape(x_label)}</text>',
        f'<text x="12" y="{H / 2}" transform="rotate(-90 12 {H / 2})" '
        f'text-anchor="middle">{html.escape(y_label)}</text>',
    ]
    for x, label in x_ticks:
        parts.append(f'<text x="{x:.1f}" y="{H - PAD + 16}" text-anchor="middle">{label}</text>')
    for y, label in y_ticks:
        parts.append(f'<line x1="{PAD}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{PAD - 4}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    return "".join(parts)


def _svg(body: str, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'viewBox="0 0 {W} {H}" font-size="11" font-family="sans-serif" role="img">'
        f"<title>{html.escape(title)}</title>{body}</svg>"
    )


def _window(window: tuple[float, float] | None, sx: Any, t0: float, t1: float) -> str:
    """A shaded band over the steady window (after the ramp, before the drain)."""
    if window is None:
        return ""
    lo, hi = max(window[0], t0), min(window[1], t1)
    if hi <= lo:
        return ""
    return (f'<rect x="{sx(lo):.1f}" y="{TOP}" width="{sx(hi) - sx(lo):.1f}" '
            f'height="{H - PAD - TOP}" fill="#f3f6fa"/>'
            f'<text x="{sx(lo) + 4:.1f}" y="{TOP + 12}" fill="#888">steady</text>')


def latency_over_time_svg(
    series: list[dict[str, Any]], window: tuple[float, float] | None = None
) -> str:
    rows = [r for r in series if "p99_ms" in r]
    if not rows:
        return "<p>No deliveries were measured.</p>"
    t0, t1 = rows[0]["t"], max(rows[-1]["t"], rows[0]["t"] + 1)
    top = max(r["max_ms"] for r in rows) * 1.05 or 1.0

    def sx(x: float) -> float:
        return float(PAD + (x - t0) / (t1 - t0) * (W - PAD - RIGHT))

    def sy(y: float) -> float:
        return H - PAD - y / top * (H - PAD - TOP)

    xt = [(sx(t), f"{_label(t)}s") for t in nice_ticks(t0, t1)]
    yt = [(sy(v), _label(v)) for v in nice_ticks(0, top, 5)]
    body = _window(window, sx, t0, t1)
    body += _axes("seconds since start", "delivery latency (ms)", xt, yt)
    body += _polyline([(r["t"], r["max_ms"]) for r in rows], sx, sy, "#bbb")
    body += _polyline([(r["t"], r["p99_ms"]) for r in rows], sx, sy, "#c0392b")
    body += _polyline([(r["t"], r["p50_ms"]) for r in rows], sx, sy, "#2471a3")
    legend = (f'<text x="{W - 200}" y="18" fill="#2471a3">p50</text>'
              f'<text x="{W - 160}" y="18" fill="#c0392b">p99</text>'
              f'<text x="{W - 120}" y="18" fill="#888">max</text>')
    return _svg(body + legend, "delivery latency over time")


def distribution_svg(points: list[list[float]] | list[tuple[float, float]]) -> str:
    """Latency by percentile, x on a 'number of nines' scale (as HdrHistogram plots do)."""
    import math

    if not points:
        return "<p>No deliveries were measured.</p>"
    max_nines = 5.0

    def nines(p: float) -> float:
        return max_nines if p >= 100 else min(max_nines, -math.log10(1 - p / 100))

    top = max(v for _, v in points) * 1.05 or 1.0

    def sx(x: float) -> float:
        return PAD + x / max_nines * (W - PAD - RIGHT)

    def sy(y: float) -> float:
        return H - PAD - y / top * (H - PAD - TOP)

    labels = ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"]
    xt = [(sx(i), labels[i]) for i in range(6)]
    yt = [(sy(v), _label(v)) for v in nice_ticks(0, top, 5)]
    body = _axes("percentile", "latency (ms)", xt, yt)
    body += _polyline([(nines(p), v) for p, v in points], sx, sy, "#c0392b")
    return _svg(body, "latency distribution")


def throughput_svg(
    series: list[dict[str, Any]], window: tuple[float, float] | None = None
) -> str:
    if not series:
        return ""
    t0, t1 = series[0]["t"], max(series[-1]["t"], series[0]["t"] + 1)
    top = max(max(r.get("delivered", 0), r.get("sent", 0)) for r in series) * 1.05 or 1.0

    def sx(x: float) -> float:
        return float(PAD + (x - t0) / (t1 - t0) * (W - PAD - RIGHT))

    def sy(y: float) -> float:
        return H - PAD - y / top * (H - PAD - TOP)

    xt = [(sx(t), f"{_label(t)}s") for t in nice_ticks(t0, t1)]
    yt = [(sy(v), _label(v)) for v in nice_ticks(0, top, 5)]
    body = _window(window, sx, t0, t1)
    body += _axes("seconds since start", "per second", xt, yt)
    body += _polyline([(r["t"], r.get("delivered", 0)) for r in series], sx, sy, "#27ae60")
    body += _polyline([(r["t"], r.get("sent", 0)) for r in series], sx, sy, "#8e44ad")
    body += _polyline([(r["t"], r.get("connected", 0)) for r in series], sx, sy, "#e67e22")
    legend = (f'<text x="{W - 260}" y="18" fill="#27ae60">deliveries</text>'
              f'<text x="{W - 190}" y="18" fill="#8e44ad">sent</text>'
              f'<text x="{W - 150}" y="18" fill="#e67e22">new connections</text>')
    return _svg(body + legend, "throughput over time")


def _table(rows: list[tuple[str, str]]) -> str:
    cells = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows
    )
    return f"<table>{cells}</table>"


def write_html(result: dict[str, Any], path: Path) -> None:
    lat_rows = []
    for name, lat in result["latency_ms"].items():
        if lat:
            lat_rows.append((
                name,
                "  ".join(f"{k} {_fmt(lat.get(k), 2)}" for k in ("p50", "p90", "p99", "p99.9",
                                                                  "max")) + " ms"
                + f"  (n={lat['count']:,})",
            ))
    rates = result["rates"]
    loss = result["loss"]
    facts = [
        ("target", result["target"]),
        ("started (UTC)", result["started_at"]),
        ("clients / workers", f"{result['clients']} / {result['workers']}"),
        ("deliveries/s (steady)", _fmt(rates["deliveries_per_s"])),
        ("sent/s (steady)", _fmt(rates["sent_per_s"])),
        ("lost deliveries (seq gaps + not received by the end)", _fmt(loss["deliveries"])),
        ("lost by id", _fmt(loss["by_id"])),
        ("errors", ", ".join(f"{k}: {v}" for k, v in result["errors"].items()) or "none"),
        ("harness CPU (cores)", _fmt(result["harness"]["cpu_total_mean"], 2)),
        ("load average before / after",
         f"{result['conditions']['load_before'][0]:.2f} / "
         f"{result['conditions']['load_after'][0]:.2f} on {result['conditions']['cpus']} CPUs"),
    ]
    slo_rows = [
        (r["check"] + f" {_fmt(r['limit'])}", f"{_fmt(r['actual'], 2)}: "
         + ("ok" if r["ok"] else "MISSED"))
        for r in result.get("slo", [])
    ]
    warnings = "".join(f"<li>{html.escape(w)}</li>" for w in result["harness"]["warnings"])
    dist = result["distribution"].get("delivery", [])
    verdict = "passed" if result.get("passed") else "MISSED a service level"
    secs = result.get("seconds")
    window = (secs["ramp"], secs["ramp"] + secs["steady"]) if secs else None
    doc = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>chat-loadtest {html.escape(result['scenario'])}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 60em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ text-align: left; padding: 2px 12px 2px 0; vertical-align: top; }}
th {{ font-weight: normal; color: #555; }}
.passed {{ color: #1e8449; }} .missed {{ color: #c0392b; }}
</style></head><body>
<h1>chat-loadtest: {html.escape(result['scenario'])}</h1>
<p>{html.escape(result.get('description', ''))}</p>
<p class="{'passed' if result.get('passed') else 'missed'}"><strong>{verdict}</strong></p>
{_table(facts)}
<h2>Service levels</h2>{_table(slo_rows) if slo_rows else '<p>None set.</p>'}
{f'<h2>Warnings</h2><ul>{warnings}</ul>' if warnings else ''}
<h2>Latency (ms)</h2>{_table(lat_rows)}
<h2>Delivery latency over time</h2>{latency_over_time_svg(result['series'], window)}
<h2>Delivery latency distribution</h2>{distribution_svg(dist)}
<h2>Throughput over time</h2>{throughput_svg(result['series'], window)}
</body></html>
"""
    path.write_text(doc)
