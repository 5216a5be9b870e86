"""Online detectors: chunk invariance, state round-trips and what they flag."""

import numpy as np
import pytest

from pdm.detection import NoveltyDetector, NoveltyParams, NoveltyState, OnlineDetector, OnlineState
from pdm.detection.likelihood import upper_tail

pytestmark = pytest.mark.unit

SMALL = NoveltyParams(block=10, blocks=20, refractory=5, min_history=30)


def signal(n: int = 900) -> np.ndarray:
    rng = np.random.default_rng(8)
    x = np.sin(np.arange(n) / 15.0)[:, None] + rng.normal(0, 0.1, (n, 2))
    x[600:610, 1] += 4.0
    return x


def stream(detector, x, sizes, state_type):
    state, parts = detector.start(x.shape[1]), []
    start = 0
    for size in sizes:
        batch, state = detector.update(state, x[start : start + size])
        parts.append(batch.score)
        state = state_type.from_bytes(state.to_bytes())
        start += size
    return np.concatenate(parts)


@pytest.mark.parametrize(
    ("detector", "state_type"),
    [(NoveltyDetector(SMALL), NoveltyState), (OnlineDetector(), OnlineState)],
    ids=["novelty", "robust_z"],
)
def test_streamed_scores_equal_one_shot_scores_bit_for_bit(detector, state_type) -> None:
    x = signal()
    one_shot, _ = detector.update(detector.start(2), x)
    rng = np.random.default_rng(4)

    random_sizes = stream(detector, x, rng.integers(1, 60, 60).tolist(), state_type)
    singles = stream(detector, x[:150], [1] * 150, state_type)

    assert np.array_equal(random_sizes[: len(x)], one_shot.score[: len(random_sizes)])
    assert np.array_equal(singles, one_shot.score[:150])


def test_novelty_flags_the_first_reading_outside_the_recent_range_once() -> None:
    x = signal()
    detector = NoveltyDetector(SMALL)

    scores, _ = detector.update(detector.start(2), x)

    fired = np.flatnonzero(scores.score >= 0.5)
    assert 600 in fired
    assert not np.isin(np.arange(601, 610), fired).any()
    assert scores.contributions[600].argmax() == 1


def test_novelty_is_silent_before_min_history() -> None:
    x = np.arange(100.0)[:, None]
    detector = NoveltyDetector(SMALL)

    scores, _ = detector.update(detector.start(1), x)

    assert not scores.score[:30].any()


def test_robust_baseline_scores_without_any_training() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(0, 1, (900, 1))
    x[700] = 25.0
    detector = OnlineDetector()

    scores, _ = detector.update(detector.start(1), x)

    assert scores.raw[700] == 1.0
    assert scores.contributions[700, 0] == 1.0
    assert scores.score[700] > np.median(scores.score[300:])


def test_normal_upper_tail_matches_known_values() -> None:
    tails = upper_tail(np.array([0.0, 1.0, 3.0, -2.0]))

    np.testing.assert_allclose(tails, [0.5, 0.158655, 0.0013499, 0.97725], rtol=1e-4)
