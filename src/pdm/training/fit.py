"""Fit a detector on a feature table: the same rows, params and seed give the same artifact bytes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from pdm.detection import IsolationForestDetector, PcaDetector
from pdm.detection.base import Detector, TrainingContext
from pdm.training.dataset import FeatureTable


class NotEnoughDataError(ValueError):
    """Too few feature rows are left to train on after exclusions."""


@dataclass(frozen=True)
class Fitted:
    detector: Detector
    artifact: bytes
    artifact_hash: str
    rows: int


MIN_ROWS = 10


def make_detector(algorithm: str, seed: int, params: dict[str, float] | None = None) -> Detector:
    params = dict(params or {})
    if algorithm == "isolation_forest":
        params.pop("seed", None)
        return IsolationForestDetector(seed=seed, **params)  # type: ignore[arg-type]
    return PcaDetector(**params)


def fit(table: FeatureTable, algorithm: str, seed: int, params: dict[str, float] | None = None) -> Fitted:
    """Missing features become 0, as the stream's trained scorer sees them (`score_trained`)."""
    if len(table) < MIN_ROWS:
        raise NotEnoughDataError(f"{len(table)} feature rows to train on; need at least {MIN_ROWS}")
    x = np.nan_to_num(table.values, nan=0.0)
    context = TrainingContext(table.feature_set, table.names, _iso(int(table.ts_ms.min())),
                              _iso(int(table.ts_ms.max())))
    detector = make_detector(algorithm, seed, params).fit(x, context)
    artifact = detector.to_artifact()
    return Fitted(detector, artifact.to_bytes(), artifact.content_hash, len(table))


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")
