"""Backtest on a held-out recent period: alert rate per asset-day, precision and recall against labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pdm.detection import HysteresisState, Transition
from pdm.detection.hysteresis import run as run_hysteresis
from pdm.scoring import ScoringModel
from pdm.training.dataset import FeatureTable
from pdm.training.spec import Period, _ms

DAY_MS = 86_400_000


@dataclass(frozen=True)
class Label:
    """A resolved alert's window: a real fault (`fault_confirmed`) or a false alarm."""

    period: Period
    fault_confirmed: bool


def onsets(model: ScoringModel, table: FeatureTable) -> tuple[np.ndarray, np.ndarray]:
    """(asset ids, times) at which the stream's hysteresis would have raised an anomaly."""
    ids, times = [], []
    for asset in table.assets():
        mine = table.asset_ids == asset
        scores = model.score_trained(table.values[mine])
        anomalous = scores.raw >= scores.threshold
        _, transitions, _ = run_hysteresis(model.hysteresis, HysteresisState(), anomalous)
        raised = [i for i, t in enumerate(transitions) if t is Transition.RAISED]
        ids += [asset] * len(raised)
        times += table.ts_ms[mine][raised].tolist()
    return np.array(ids, dtype=object), np.array(times, dtype=np.int64)


def backtest(model: ScoringModel, table: FeatureTable, span_ms: tuple[int, int], labels: Sequence[Label]
             ) -> dict[str, float]:
    """Undefined ratios (no onsets, no labelled faults) are left out rather than reported as 0."""
    ids, times = onsets(model, table)
    asset_days = len(table.assets()) * (span_ms[1] - span_ms[0]) / DAY_MS
    metrics = {"holdout_windows": float(len(table)), "holdout_onsets": float(len(times)),
               "alert_rate_per_asset_day": float(len(times) / asset_days) if asset_days > 0 else 0.0}
    faults = [lb.period for lb in labels if lb.fault_confirmed and _overlaps(lb.period, span_ms)]
    if len(times):
        hits = sum(any(_inside(p, a, t) for p in faults) for a, t in zip(ids, times, strict=True))
        metrics["precision"] = hits / len(times)
    if faults:
        found = sum(any(_inside(p, a, t) for a, t in zip(ids, times, strict=True)) for p in faults)
        metrics["recall"] = found / len(faults)
        metrics["labelled_faults"] = float(len(faults))
    return metrics


def _inside(period: Period, asset: str, t: int) -> bool:
    return asset == period.asset_id and _ms(period.start) <= t <= _ms(period.end)


def _overlaps(period: Period, span_ms: tuple[int, int]) -> bool:
    return _ms(period.start) < span_ms[1] and _ms(period.end) >= span_ms[0]
