"""Pure scoring glue: per-asset state, micro-batch scoring, models by version, anomaly facts."""

from pdm.scoring.batch import MicroBatch, score_history, score_micro_batch
from pdm.scoring.model import (
    DEFAULT_FEATURE_SET,
    DEFAULT_MODEL,
    DEFAULT_VERSION,
    IncompatibleModelError,
    ModelScores,
    ScoringModel,
    trained_model,
)
from pdm.scoring.outputs import FeatureVectorV1, Outputs, encode
from pdm.scoring.pipeline import AssetResult, accept_mask, score_asset
from pdm.scoring.state import AssetScoringState

__all__ = [
    "DEFAULT_FEATURE_SET",
    "DEFAULT_MODEL",
    "DEFAULT_VERSION",
    "AssetResult",
    "AssetScoringState",
    "FeatureVectorV1",
    "IncompatibleModelError",
    "MicroBatch",
    "ModelScores",
    "Outputs",
    "ScoringModel",
    "accept_mask",
    "encode",
    "score_asset",
    "score_history",
    "score_micro_batch",
    "trained_model",
]
