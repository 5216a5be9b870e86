"""What every trained detector offers: fit on normal history, score batches, explain, persist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Self

import numpy as np

from pdm.detection.artifacts import ModelArtifact


@dataclass(frozen=True)
class TrainingContext:
    """Where a model's training data came from; every artifact records it."""

    feature_set: str
    feature_names: tuple[str, ...]
    window_start: str
    window_end: str


@dataclass(frozen=True)
class Scores:
    """Raw scores (higher = more anomalous) with each feature's share of every score."""

    raw: np.ndarray
    contributions: np.ndarray

    def anomalous(self, threshold: float) -> np.ndarray:
        return self.raw >= threshold


class Detector(Protocol):
    algorithm: str
    threshold: float | None

    def fit(self, normal: np.ndarray, context: TrainingContext) -> Self: ...

    def score(self, features: np.ndarray) -> Scores: ...

    def to_artifact(self) -> ModelArtifact: ...

    @classmethod
    def from_artifact(cls, artifact: ModelArtifact) -> Self: ...


def top_contributors(
    contributions: np.ndarray, names: tuple[str, ...], k: int = 3
) -> list[list[tuple[str, float]]]:
    """The k features that most explain each score, largest first, with their shares of the total.

    Ties go to the earlier feature, so the explanation of a replayed score is reproducible.
    """
    weights = np.abs(np.atleast_2d(contributions))
    totals = weights.sum(axis=1, keepdims=True)
    shares = np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)
    order = np.argsort(-shares, axis=1, kind="stable")[:, :k]
    return [[(names[j], float(row[j])) for j in picks] for row, picks in zip(shares, order, strict=True)]


def context_of(artifact: ModelArtifact) -> TrainingContext:
    return TrainingContext(artifact.feature_set, artifact.feature_names, *artifact.training_window)


def artifact_for(
    algorithm: str,
    params: dict[str, Any],
    context: TrainingContext,
    threshold: float | None,
    arrays: dict[str, np.ndarray],
) -> ModelArtifact:
    return ModelArtifact(
        algorithm,
        params,
        context.feature_set,
        context.feature_names,
        (context.window_start, context.window_end),
        threshold,
        arrays,
    )


def calibrate_threshold(normal_scores: np.ndarray, quantile: float = 0.995) -> float:
    """A quantile of scores on normal data: the expected false-alarm rate is 1 - quantile.

    Uses the 'higher' order statistic, so the threshold is always a score that occurred
    and the calibration does not depend on interpolation details.
    """
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be in (0, 1), got {quantile}")
    return float(np.quantile(np.asarray(normal_scores, np.float64), quantile, method="higher"))
