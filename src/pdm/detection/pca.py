"""PCA monitoring: Hotelling T² inside the model plane and Q (SPE) off it, on standardised features."""

from __future__ import annotations

from typing import Self

import numpy as np

from pdm.detection.artifacts import ModelArtifact
from pdm.detection.base import Scores, TrainingContext, artifact_for, calibrate_threshold, context_of

SCALE_FLOOR = 1e-9


class PcaDetector:
    """Score = max(T²/T²_limit, Q/Q_limit), limits being a quantile of each on training data.

    Two statistics because they see different faults: T² a familiar direction pushed too far,
    Q a correlation between channels that broke. Normalising each by its own training
    quantile lets one threshold (about 1) serve both.
    """

    algorithm = "pca_t2_q"

    def __init__(
        self, variance_kept: float = 0.95, limit_quantile: float = 0.99, threshold_quantile: float = 0.995
    ) -> None:
        self.variance_kept = variance_kept
        self.limit_quantile = limit_quantile
        self.threshold_quantile = threshold_quantile
        self.threshold: float | None = None

    @property
    def params(self) -> dict[str, float]:
        return {
            "variance_kept": self.variance_kept,
            "limit_quantile": self.limit_quantile,
            "threshold_quantile": self.threshold_quantile,
        }

    def fit(self, normal: np.ndarray, context: TrainingContext) -> Self:
        x = np.asarray(normal, np.float64)
        self.context = context
        self.mean = x.mean(axis=0)
        self.scale = np.maximum(x.std(axis=0), SCALE_FLOOR)
        z = (x - self.mean) / self.scale
        _, singular, vt = np.linalg.svd(z, full_matrices=False)
        variance = singular**2 / max(len(x) - 1, 1)
        kept = int(np.searchsorted(np.cumsum(variance) / variance.sum(), self.variance_kept) + 1)
        kept = min(kept, len(variance))
        self.loadings, self.eigenvalues = vt[:kept].T.copy(), np.maximum(variance[:kept], SCALE_FLOOR)
        t2_terms, residual = self._terms(x)
        t2, q = t2_terms.sum(axis=1), (residual * residual).sum(axis=1)
        self.t2_limit = max(float(np.quantile(t2, self.limit_quantile)), SCALE_FLOOR)
        self.q_limit = max(float(np.quantile(q, self.limit_quantile)), SCALE_FLOOR)
        self.threshold = calibrate_threshold(self.score(x).raw, self.threshold_quantile)
        return self

    def _terms(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-feature T² terms (they sum to T²) and residuals (their squares sum to Q)."""
        z = (np.asarray(x, np.float64) - self.mean) / self.scale
        t = z @ self.loadings
        return z * ((t / self.eigenvalues) @ self.loadings.T), z - t @ self.loadings.T

    def score(self, features: np.ndarray) -> Scores:
        """Contributions: each feature's |T² term| and squared residual, each normalised."""
        t2_terms, residual = self._terms(features)
        t2 = t2_terms.sum(axis=1) / self.t2_limit
        q = (residual * residual).sum(axis=1) / self.q_limit
        contributions = np.abs(t2_terms) / self.t2_limit + residual * residual / self.q_limit
        return Scores(np.maximum(t2, q), contributions)

    def to_artifact(self) -> ModelArtifact:
        arrays = {
            "mean": self.mean,
            "scale": self.scale,
            "loadings": self.loadings,
            "eigenvalues": self.eigenvalues,
            "limits": np.array([self.t2_limit, self.q_limit]),
        }
        return artifact_for(self.algorithm, self.params, self.context, self.threshold, arrays)

    @classmethod
    def from_artifact(cls, artifact: ModelArtifact) -> Self:
        detector = cls(**artifact.params)
        detector.context = context_of(artifact)
        a = artifact.arrays
        detector.mean, detector.scale = a["mean"], a["scale"]
        detector.loadings, detector.eigenvalues = a["loadings"], a["eigenvalues"]
        detector.t2_limit, detector.q_limit = float(a["limits"][0]), float(a["limits"][1])
        detector.threshold = artifact.threshold
        return detector
