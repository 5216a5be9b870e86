"""Contextual novelty: causality, determinism, chunk invariance, state round-trips, what it flags."""

import numpy as np
import pytest

from pdm.detection import ContextualDetector, ContextualParams, ContextualState, NoveltyParams
from pdm.evaluation.detectors import UnknownDetectorError, detector_factory

pytestmark = pytest.mark.unit

SMALL = ContextualParams(
    learning=60, rest=20, novelty=NoveltyParams(block=10, blocks=20, refractory=5, min_history=30)
)


def cycle(n: int = 900, channels: int = 2, seed: int = 8) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    return np.sin(2 * np.pi * t / 40.0) + rng.normal(0, 0.05, (n, channels))


def stream(detector: ContextualDetector, x: np.ndarray, sizes: list[int]) -> np.ndarray:
    state, parts, start = detector.start(x.shape[1]), [], 0
    for size in sizes:
        batch, state = detector.update(state, x[start : start + size])
        parts.append(batch.score)
        state = ContextualState.from_bytes(state.to_bytes())
        start += size
    return np.concatenate(parts)


def test_chunked_and_round_tripped_scores_equal_one_shot_scores_bit_for_bit() -> None:
    x = cycle()
    x[500:503, 0] = np.nan
    detector = ContextualDetector(SMALL)
    one_shot, _ = detector.update(detector.start(2), x)
    sizes = np.random.default_rng(4).integers(1, 60, 40).tolist()

    chunked = stream(detector, x, sizes)
    singles = stream(detector, x[:200], [1] * 200)

    assert np.array_equal(chunked, one_shot.score[: len(chunked)])
    assert np.array_equal(singles, one_shot.score[:200])


def test_changing_later_readings_never_changes_earlier_scores() -> None:
    x = cycle()
    changed = x.copy()
    changed[400:] = np.random.default_rng(1).normal(5, 3, changed[400:].shape)
    detector = ContextualDetector(SMALL)

    a, _ = detector.update(detector.start(2), x)
    b, _ = detector.update(detector.start(2), changed)

    assert np.array_equal(a.score[:400], b.score[:400])
    assert np.array_equal(a.contributions[:400], b.contributions[:400])
    assert not np.array_equal(a.score[400:], b.score[400:])


def test_same_input_gives_same_bits_and_same_state() -> None:
    x = cycle(seed=3)
    detector = ContextualDetector(SMALL)

    a, sa = detector.update(detector.start(2), x)
    b, sb = detector.update(detector.start(2), x)

    assert np.array_equal(a.score, b.score)
    assert sa.to_bytes() == sb.to_bytes()


def test_flags_a_flat_stretch_inside_the_usual_range_that_range_novelty_misses() -> None:
    x = np.sin(2 * np.pi * np.arange(2000) / 24.0)[:, None]
    x[1600:1660, 0] = 0.1  # stays well inside [-1, 1]: no new extreme
    detector = ContextualDetector(SMALL)

    scores, _ = detector.update(detector.start(1), x)

    assert not scores.raw[1000:1600].any()
    assert scores.context[1600:1660].max() >= 0.4
    assert scores.raw[1600] == scores.context[1600, 0]


def test_rests_after_a_detection_and_names_the_channel() -> None:
    x = cycle(900, 2)
    x[700, 1] += 6.0
    x[705, 1] += 8.0
    detector = ContextualDetector(SMALL)

    scores, _ = detector.update(detector.start(2), x)

    assert scores.score[700] == 1.0
    assert scores.contributions[700].argmax() == 1
    assert scores.raw[705] == 1.0
    assert not scores.score[701 : 701 + SMALL.rest].any()


def test_silent_while_learning() -> None:
    x = np.random.default_rng(0).normal(0, 1, (SMALL.learning, 1))
    detector = ContextualDetector(SMALL)

    scores, _ = detector.update(detector.start(1), x)

    assert not scores.context.any()


def test_evaluation_picks_it_by_name() -> None:
    assert detector_factory("contextual_novelty") is ContextualDetector
    with pytest.raises(UnknownDetectorError):
        detector_factory("no_such_detector")
