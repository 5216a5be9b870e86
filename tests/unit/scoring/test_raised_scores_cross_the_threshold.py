"""Every anomaly the scoring core raises carries a score at or above its threshold."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from pdm.scoring import DEFAULT_MODEL, score_history
from pdm.scoring.model import ModelScores
from pdm.scoring.pipeline import severe_at_least_threshold
from pdm.simulation import Simulator

pytestmark = pytest.mark.unit


def test_a_severe_window_below_the_threshold_is_published_at_the_threshold() -> None:
    scores = ModelScores(np.array([0.1, 0.3, 0.9]), np.zeros((3, 1)), 0.5, np.array([False, True, True]))

    lifted = severe_at_least_threshold(scores)

    assert lifted.raw.tolist() == [0.1, 0.5, 0.9]


@pytest.mark.parametrize("offset_ms", [0, 1_300, 3_700, 6_100, 8_300, 9_900])
def test_raised_rows_score_at_least_their_threshold_whatever_the_window_alignment(offset_ms: int) -> None:
    start = datetime(2026, 11, 21, 7, 0, tzinfo=UTC) + timedelta(milliseconds=offset_ms)
    sim = Simulator(4, rate_hz=1.0, seed=3, start=start,
                    faults="overheat:pump-1@20m+15m,imbalance:motor-1@20m+15m,spike:pump-2@25m")
    whole = sim.slice(0, sim.tick_count(timedelta(minutes=40)))

    raised = []
    for a, spec in enumerate(sim.assets):
        results, _ = score_history(lambda _: DEFAULT_MODEL, spec.asset_id, whole.ts_ms, whole.values[a][:, :4])
        raised += [(r.scores.raw[i], r.scores.threshold) for r in results for i in r.raised.tolist()]

    assert raised
    assert all(score >= threshold for score, threshold in raised)
