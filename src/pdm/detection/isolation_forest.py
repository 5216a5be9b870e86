"""IsolationForest trained by scikit-learn, persisted as node arrays and scored with numpy.

Why export the trees rather than re-fit from stored training data and a seed: re-fitting
is only reproducible on the same scikit-learn version (its sampling and split code
changes between releases), and it needs the training data shipped with every model. The
node arrays are the fitted model itself; scoring them is a few vectorised lookups per
tree level, and it follows scikit-learn's arithmetic (float32 comparisons, per-tree depth
terms added in tree order) so the scores match `-score_samples` of the original forest.
"""

from __future__ import annotations

from typing import Self

import numpy as np
from sklearn.ensemble import IsolationForest

from pdm.detection.artifacts import ModelArtifact
from pdm.detection.base import Scores, TrainingContext, artifact_for, calibrate_threshold, context_of

LEAF = -1


def _average_path_length(n: np.ndarray) -> np.ndarray:
    """Expected path length of an unsuccessful BST search among n points (the c(n) of the paper)."""
    n = np.asarray(n, np.float64)
    out = np.zeros_like(n)
    out[n == 2] = 1.0
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


class IsolationForestDetector:
    """Score in (0, 1]: 2^(-mean path length / c(max_samples)); about 0.5 and below is normal."""

    algorithm = "isolation_forest"

    def __init__(
        self,
        n_estimators: int = 100,
        max_samples: int = 256,
        seed: int = 0,
        threshold_quantile: float = 0.995,
    ) -> None:
        self.n_estimators, self.max_samples, self.seed = n_estimators, max_samples, seed
        self.threshold_quantile = threshold_quantile
        self.threshold: float | None = None

    @property
    def params(self) -> dict[str, float | int]:
        return {
            "n_estimators": self.n_estimators,
            "max_samples": self.max_samples,
            "seed": self.seed,
            "threshold_quantile": self.threshold_quantile,
        }

    def fit(self, normal: np.ndarray, context: TrainingContext) -> Self:
        x = np.asarray(normal, np.float64)
        forest = IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=min(self.max_samples, len(x)),
            random_state=self.seed,
        ).fit(x)
        self.context = context
        self._adopt(forest)
        self.threshold = calibrate_threshold(self.score(x).raw, self.threshold_quantile)
        return self

    def _adopt(self, forest: IsolationForest) -> None:
        trees = [e.tree_ for e in forest.estimators_]
        self.offsets = np.cumsum([0] + [t.node_count for t in trees])[:-1].astype(np.int64)
        self.left = np.concatenate([t.children_left for t in trees]).astype(np.int64)
        self.right = np.concatenate([t.children_right for t in trees]).astype(np.int64)
        self.feature = np.concatenate(
            [
                np.asarray(f)[np.maximum(t.feature, 0)]
                for t, f in zip(trees, forest.estimators_features_, strict=True)
            ]
        ).astype(np.int64)
        self.split = np.concatenate([t.threshold for t in trees]).astype(np.float64)
        self.leaf_depth = np.concatenate(
            [t.compute_node_depths() + _average_path_length(t.n_node_samples) - 1.0 for t in trees]
        )
        self.fitted_samples = int(forest._max_samples)
        self.max_depth = int(max(t.max_depth for t in trees))

    def _path_lengths(self, x32: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Summed path lengths, and per feature how many trees it made the isolating split in."""
        rows = np.arange(len(x32))
        depths = np.zeros(len(x32))
        isolating = np.zeros(x32.shape, np.float64)
        for offset in self.offsets:
            node = np.full(len(x32), offset)
            last_feature = np.full(len(x32), -1)
            for _ in range(self.max_depth):
                inner = self.left[node] != LEAF
                feature = self.feature[node]
                last_feature = np.where(inner, feature, last_feature)
                go_left = x32[rows, feature] <= self.split[node]
                child = np.where(go_left, self.left[node], self.right[node]) + offset
                node = np.where(inner, child, node)
            depths += self.leaf_depth[node]
            split = last_feature >= 0
            isolating[rows[split], last_feature[split]] += 1.0
        return depths, isolating

    def score(self, features: np.ndarray) -> Scores:
        """Contributions: the share of trees in which each feature made the final, isolating split."""
        x32 = np.asarray(features, np.float64).astype(np.float32)
        depths, splits = self._path_lengths(x32)
        denominator = len(self.offsets) * _average_path_length(np.array([self.fitted_samples]))[0]
        raw = 2.0 ** (-(depths / denominator)) if denominator else np.ones(len(x32))
        totals = splits.sum(axis=1, keepdims=True)
        shares = np.divide(splits, totals, out=np.zeros_like(splits), where=totals > 0)
        return Scores(raw, shares * raw[:, None])

    def to_artifact(self) -> ModelArtifact:
        arrays = {
            "offsets": self.offsets,
            "left": self.left,
            "right": self.right,
            "feature": self.feature,
            "split": self.split,
            "leaf_depth": self.leaf_depth,
            "shape": np.array([self.fitted_samples, self.max_depth], np.int64),
        }
        return artifact_for(self.algorithm, self.params, self.context, self.threshold, arrays)

    @classmethod
    def from_artifact(cls, artifact: ModelArtifact) -> Self:
        detector = cls(**artifact.params)
        detector.context = context_of(artifact)
        for name in ("offsets", "left", "right", "feature", "split", "leaf_depth"):
            setattr(detector, name, artifact.arrays[name])
        detector.fitted_samples, detector.max_depth = (int(v) for v in artifact.arrays["shape"])
        detector.threshold = artifact.threshold
        return detector
