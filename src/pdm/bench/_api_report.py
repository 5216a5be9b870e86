"""Figures of `pdm bench api`: per-route and overall rate, percentiles and errors, and their table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from rich.table import Table

from pdm.bench._stats import percentile

OVERALL = "all"


@dataclass(frozen=True)
class RouteFigure:
    """One route of one phase; latencies in seconds from each request's scheduled send time."""

    route: str
    answered: int
    errors: int
    rate: float
    p50: float
    p95: float
    p99: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def route_figure(route: str, latencies: Sequence[float], errors: int, seconds: float) -> RouteFigure:
    """`rate` counts good answers only; a route without one has no percentiles (NaN)."""
    if seconds <= 0:
        raise ValueError(f"elapsed time must be positive, got {seconds}")
    if not latencies:
        nan = float("nan")
        return RouteFigure(route, 0, errors, 0.0, nan, nan, nan)
    return RouteFigure(route, len(latencies), errors, len(latencies) / seconds,
                       percentile(latencies, 50), percentile(latencies, 95), percentile(latencies, 99))


def summarize(result: dict[str, Any]) -> list[RouteFigure]:
    """Each route, then all routes together (the overall row is last)."""
    seconds, routes = result["seconds"], result["routes"]
    figures = [route_figure(name, r["latencies"], r["errors"], seconds) for name, r in sorted(routes.items())]
    every = [x for r in routes.values() for x in r["latencies"]]
    if len(routes) > 1:
        figures.append(route_figure(OVERALL, every, sum(r["errors"] for r in routes.values()), seconds))
    return figures


def cpu_per_request(result: dict[str, Any]) -> dict[str, float]:
    """CPU milliseconds per request sent in the measured part (answered or not: a request the
    client gave up on still cost the servers their work), for each process measured."""
    sent = sum(len(r["latencies"]) + r["errors"] for r in result["routes"].values())
    return {side: seconds * 1000 / sent if sent else float("nan")
            for side, seconds in result["cpu_s"].items()}


def overall(figures: Sequence[RouteFigure]) -> RouteFigure:
    return figures[-1]


def _ms(seconds: float) -> str:
    return "-" if seconds != seconds else f"{seconds * 1000:.1f}"


def phase_table(title: str, figures: Sequence[RouteFigure]) -> Table:
    table = Table(title=title, title_justify="left")
    for header in ("route", "answered", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors"):
        table.add_column(header, justify="left" if header == "route" else "right", no_wrap=True)
    for f in figures:
        style = "bold" if f.route == OVERALL else None
        table.add_row(f.route, f"{f.answered:,}", f"{f.rate:,.0f}", _ms(f.p50), _ms(f.p95), _ms(f.p99),
                      str(f.errors), style=style)
    return table


def comparison_table(http: RouteFigure, sql: RouteFigure, floor: RouteFigure, target_ms: float) -> Table:
    """pdm (HTTP) beside the direct-SQL baseline and the /healthz floor, with the ratio."""
    table = Table(title="API vs baseline (same run, same rate)", title_justify="left")
    for header in ("path", "req/s", "p50 ms", "p99 ms", "errors"):
        table.add_column(header, justify="left" if header == "path" else "right", no_wrap=True)
    for name, f in (("pdm: HTTP query mix", http), ("baseline: same SQL via psycopg pool", sql),
                    ("floor: GET /healthz over HTTP", floor)):
        table.add_row(name, f"{f.rate:,.0f}", _ms(f.p50), _ms(f.p99), str(f.errors))
    table.add_row("ratio pdm / baseline (latency)", "", _ratio(http.p50, sql.p50), _ratio(http.p99, sql.p99),
                  "")
    met = http.errors == 0 and http.p99 * 1000 < target_ms
    table.add_row(f"target p99 < {target_ms:g} ms", "", "", "met" if met else "NOT met", "")
    return table


def _ratio(a: float, b: float) -> str:
    return "-" if not b or a != a or b != b else f"{a / b:.1f}x"
