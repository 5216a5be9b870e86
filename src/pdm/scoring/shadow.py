"""A shadow candidate's scores of the windows the serving model just scored: pure, and raising nothing.

The candidate sees the very feature rows the serving model saw (same features, same windows,
so the same `ts`), which is how the saga pairs the two. It has no state of its own to keep:
a trained candidate scores each row on its own, and an online candidate continues the asset's
detector state from before the batch (every served model runs the same online detector, so
that state is the one it would have had). Its hysteresis is never run: a candidate raises no
anomaly, and `is_anomalous` of a score is the window's own `score >= threshold`. So the
serving model's state (hysteresis included) is never touched, and a redelivered batch gives
the same shadow scores again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from pdm.scoring.model import ModelScores, ScoringModel
from pdm.scoring.pipeline import AssetResult, model_scores
from pdm.scoring.state import AssetScoringState

ShadowsFor = Callable[[str], Sequence[ScoringModel]]


def shadow_result(candidate: ScoringModel, before: AssetScoringState, served: AssetResult) -> AssetResult:
    """The candidate's scores of `served`'s rows; `raised` is always empty."""
    rows = served.features.values
    scores: ModelScores
    if candidate.trained is not None:
        scores = candidate.score_trained(rows)
    else:
        scores, _ = model_scores(candidate, before, rows)
    anomalous = scores.raw >= scores.threshold
    return AssetResult(served.asset_id, candidate, served.features, scores, anomalous,
                       np.empty(0, dtype=np.int64), 0)


def shadow_micro_batch(
    shadows_for: ShadowsFor, before: Mapping[str, AssetScoringState | None], served: Sequence[AssetResult]
) -> list[AssetResult]:
    """Every shadow candidate of every asset that closed a window in this batch."""
    out = []
    for result in served:
        if not len(result.features.values):
            continue
        candidates = shadows_for(result.asset_id)
        if not candidates:
            continue
        state = before.get(result.asset_id) or AssetScoringState.empty(result.model)
        out += [shadow_result(candidate, state, result) for candidate in candidates]
    return out
