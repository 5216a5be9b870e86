"""What the stream scores with: the default feature set, detector, threshold and hysteresis."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pdm.detection import ContextualParams, Detector, Hysteresis, NoveltyParams, load_detector
from pdm.detection.drift import DriftParams
from pdm.detection.maintenance import MaintenanceDetector, MaintenanceParams
from pdm.features import FeatureSet, time_window

CHANNELS = ("vibration_rms", "temperature_c", "current_a", "pressure_bar")
DEFAULT_FEATURE_SET = FeatureSet(
    "pdm-default", 1, CHANNELS, time_window(10, capacity=64, tumbling=True), ("mean", "std", "max")
)
# Scored per 10 s window: 90 windows (15 min) of warm-up, a recent range and a level history of
# 1 h. Chosen on the simulator (seeds x assets, faults and fault-free); see docs/streaming.md.
DEFAULT_NOVELTY = NoveltyParams(block=6, blocks=60, sensitivity=0.6, refractory=6, min_history=90)
DEFAULT_DETECTOR = MaintenanceParams(
    ContextualParams(learning=90, novelty=DEFAULT_NOVELTY),
    DriftParams(recent=6, history=360, z_low=5.0, z_high=10.0, min_history=90),
)
DEFAULT_VERSION = "contextual-drift-v1"
DEFAULT_HYSTERESIS = Hysteresis(raise_after=2, clear_after=6)
ANOMALY_KIND = "anomalous_score"


@dataclass(frozen=True)
class ModelScores:
    """One score per feature row, the per-channel share of each, and the model's threshold."""

    raw: np.ndarray
    channel_contributions: np.ndarray
    threshold: float
    severe: np.ndarray | None = None
    """Rows to raise on at once, without waiting for hysteresis (None: none)."""


@dataclass(frozen=True)
class ScoringModel:
    """A served model version: the default online detector, or a trained detector's artifact.

    The online detector is stateful (its state lives in each asset's state); trained
    detectors score each feature row on its own, so switching to one needs no warm-up.
    """

    version: str
    feature_set: FeatureSet = DEFAULT_FEATURE_SET
    detector_params: MaintenanceParams = DEFAULT_DETECTOR
    threshold: float = 0.5
    hysteresis: Hysteresis = DEFAULT_HYSTERESIS
    trained: Detector | None = field(default=None, compare=False)

    def score_trained(self, features: np.ndarray) -> ModelScores:
        """Trained detectors see missing features as 0 (their training mean would be fairer,
        but the artifact format stores no imputation); NaN scores count as normal."""
        assert self.trained is not None
        scores = self.trained.score(np.nan_to_num(features, nan=0.0))
        raw = np.nan_to_num(np.asarray(scores.raw, np.float64), nan=0.0, posinf=1e300)
        threshold = float(self.trained.threshold if self.trained.threshold is not None else np.inf)
        return ModelScores(raw, per_channel(self.feature_set, scores.contributions), threshold)

    @property
    def detector(self) -> MaintenanceDetector:
        return MaintenanceDetector(self.detector_params)


DEFAULT_MODEL = ScoringModel(DEFAULT_VERSION)


class IncompatibleModelError(ValueError):
    """A trained artifact was fitted on another feature set than the stream computes."""


def trained_model(version: str, artifact: bytes, base: ScoringModel = DEFAULT_MODEL) -> ScoringModel:
    """A trained artifact (PCA, IsolationForest) behind the same interface as the default."""
    detector = load_detector(artifact)
    context = getattr(detector, "context", None)
    tag = getattr(context, "feature_set", base.feature_set.tag)
    if tag != base.feature_set.tag:
        expected = base.feature_set.tag
        raise IncompatibleModelError(f"{version} was trained on {tag}; the stream computes {expected}")
    return ScoringModel(
        version, base.feature_set, base.detector_params, base.threshold, base.hysteresis, detector
    )


def per_channel(feature_set: FeatureSet, contributions: np.ndarray) -> np.ndarray:
    """Feature contributions summed per channel: alerts name sensors, not statistics."""
    values = np.nan_to_num(np.abs(np.atleast_2d(contributions)), nan=0.0)
    width = len(feature_set.statistics)
    return values.reshape(len(values), len(feature_set.channels), width).sum(axis=2)
