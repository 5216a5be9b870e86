"""One asset's readings in, its feature rows, scores and anomaly onsets out: the pure scoring step."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from pdm.detection import Hysteresis, HysteresisState, Transition
from pdm.detection.hysteresis import step as hysteresis_step
from pdm.detection.maintenance import MaintenanceState
from pdm.features import AssetWindowState, FeatureRows, extract
from pdm.scoring.model import ModelScores, ScoringModel, per_channel
from pdm.scoring.state import AssetScoringState

NANOS_PER_MS = 1_000_000


@dataclass(frozen=True)
class AssetResult:
    """What one asset's share of a micro-batch produced; rows, scores and flags align."""

    asset_id: str
    model: ScoringModel
    features: FeatureRows
    scores: ModelScores
    anomalous: np.ndarray
    raised: np.ndarray
    """Indices of the rows at which hysteresis raised an anomaly."""
    dropped: int

    @property
    def row_ts_ms(self) -> np.ndarray:
        return self.features.ts // NANOS_PER_MS


def accept_mask(last_ts_ms: int, ts_ms: np.ndarray) -> np.ndarray:
    """Only readings newer than every reading accepted before them.

    Stricter than feature extraction's own rule (which keeps equal times) so that a
    redelivered batch is a no-op, whichever way the history is chunked.
    """
    before = np.maximum.accumulate(np.concatenate(([last_ts_ms], ts_ms)))[:-1]
    return ts_ms > before


def score_asset(
    model: ScoringModel, state: AssetScoringState, asset_id: str, ts_ms: np.ndarray, values: np.ndarray
) -> tuple[AssetResult, AssetScoringState]:
    """Features, scores and hysteresis for one asset's readings in arrival order."""
    keep = accept_mask(state.last_ts_ms, ts_ms)
    ts_ms, values = ts_ms[keep], values[keep]
    if not len(ts_ms):
        return _nothing_new(model, state, asset_id, int((~keep).sum())), state
    rows, windows = extract(model.feature_set, state.windows, ts_ms * NANOS_PER_MS, values, asset_id)
    if not len(rows.values):
        return _readings_only(model, state, asset_id, rows, windows, int(ts_ms[-1]), int((~keep).sum()))
    scores, detector = model_scores(model, state, rows.values)
    hysteresis = state.hysteresis if state.model_version == model.version else HysteresisState()
    anomalous = scores.raw >= scores.threshold
    raised, hysteresis = confirm(model.hysteresis, hysteresis, anomalous, scores.severe)
    last = int(ts_ms[-1]) if len(ts_ms) else state.last_ts_ms
    new_state = replace(
        state, windows=windows, detector=detector, hysteresis=hysteresis,
        model_version=model.version, last_ts_ms=max(last, state.last_ts_ms),
    )
    result = AssetResult(asset_id, model, rows, scores, anomalous, raised, int((~keep).sum()))
    return result, new_state


def model_scores(model: ScoringModel, state: AssetScoringState,
                  features: np.ndarray) -> tuple[ModelScores, MaintenanceState]:
    online, detector = model.detector.update(state.detector, features)
    if model.trained is None:
        contributions = per_channel(model.feature_set, online.contributions)
        scores = ModelScores(online.raw, contributions, model.threshold, online.severe)
        return severe_at_least_threshold(scores), detector
    return severe_at_least_threshold(model.score_trained(features)), detector


def _readings_only(model: ScoringModel, state: AssetScoringState, asset_id: str, rows: FeatureRows,
                   windows: AssetWindowState, last_ts_ms: int, dropped: int) -> AssetResult:
    """No window closed: the detector sees no row, so its state (the same object) is kept.

    Most micro-batches close no window of most assets; an update on zero rows still cost
    ~1 ms per asset (measured), and an unchanged detector is serialised from cache.
    """
    nothing = _nothing_new(model, state, asset_id, dropped)
    new_state = replace(state, windows=windows, last_ts_ms=max(last_ts_ms, state.last_ts_ms))
    return replace(nothing, features=rows), new_state


def severe_at_least_threshold(scores: ModelScores) -> ModelScores:
    """A severe window raises at once, so it is anomalous: its published score is at least the
    threshold. Every score and anomaly then keeps `is_anomalous == (score >= threshold)`, the
    rule the alerting side applies; without it a severe window's anomaly could carry a raw score
    below the threshold and be refused as below threshold."""
    if scores.severe is None or not scores.severe.any():
        return scores
    raw = np.where(scores.severe, np.maximum(scores.raw, scores.threshold), scores.raw)
    return replace(scores, raw=raw)


def confirm(
    rule: Hysteresis, state: HysteresisState, anomalous: np.ndarray, severe: np.ndarray | None
) -> tuple[np.ndarray, HysteresisState]:
    """Rows at which an anomaly is raised: k anomalous windows in a row, or one severe window.

    A severe window (an impulse far beyond the last hour's range) raises at once: a spike
    that large is a fault, not noise. A loop over windows, the same for stream and replay.
    """
    raised = []
    flags = severe.tolist() if severe is not None else [False] * len(anomalous)
    for i, (flag, now) in enumerate(zip(anomalous.tolist(), flags, strict=True)):
        if now and not state.active:
            state, transition = HysteresisState(True, 0), Transition.RAISED
        else:
            state, transition = hysteresis_step(rule, state, flag or now)
        if transition is Transition.RAISED:
            raised.append(i)
    return np.array(raised, dtype=np.int64), state


def _nothing_new(model: ScoringModel, state: AssetScoringState, asset_id: str, dropped: int) -> AssetResult:
    """Every reading was a redelivery (or late): no rows, no state change."""
    fs = model.feature_set
    rows = FeatureRows(fs.tag, fs.feature_names, np.empty(0, object), np.empty(0, np.int64),
                       np.empty((0, len(fs.feature_names))), 0)
    scores = ModelScores(np.empty(0), np.empty((0, len(fs.channels))), model.threshold)
    empty = np.empty(0, dtype=np.int64)
    return AssetResult(asset_id, model, rows, scores, empty.astype(bool), empty, dropped)
