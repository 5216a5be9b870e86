"""Pure figures of a benchmark run: rates, percentiles, ratios and the table that shows them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.table import Table


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), without numpy."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be 0..100, got {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def rate(count: int, seconds: float) -> float:
    """Items per second; zero time is a measuring error, not infinity."""
    if seconds <= 0:
        raise ValueError(f"elapsed time must be positive, got {seconds}")
    return count / seconds


def ratio(measured: float, baseline: float) -> float | None:
    return measured / baseline if baseline > 0 else None


@dataclass(frozen=True)
class Figure:
    """One row of the result table: pdm's rate beside its baseline's, both in readings/s."""

    what: str
    rate: float
    baseline_name: str
    baseline_rate: float
    target: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return ratio(self.rate, self.baseline_rate)


def format_rate(per_second: float) -> str:
    """`123,456/s`: whole readings, thousands separated, so columns line up."""
    return f"{per_second:,.0f}/s"


def format_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def format_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def results_table(title: str, figures: Sequence[Figure]) -> Table:
    """pdm's rate, its baseline's, the ratio and the target; baselines are named in the notes."""
    table = Table(title=title, title_justify="left")
    for header, justify in (("path", "left"), ("pdm", "right"), ("baseline", "right"),
                            ("ratio", "right"), ("target", "left")):
        table.add_column(header, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for f in figures:
        table.add_row(f.what, format_rate(f.rate), format_rate(f.baseline_rate), format_ratio(f.ratio),
                      f.target)
    return table
