"""The default online detector: chunk-invariant, exact state round-trips, each fault shape scored."""

import numpy as np
import pytest

from pdm.detection.drift import DriftParams
from pdm.detection.maintenance import MaintenanceDetector, MaintenanceParams, MaintenanceState
from pdm.scoring.model import DEFAULT_DETECTOR

pytestmark = pytest.mark.unit
SMALL = MaintenanceParams(DEFAULT_DETECTOR.contextual, DriftParams(recent=4, history=40, min_history=20))


def signal(n: int = 300, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.column_stack((np.sin(np.arange(n) / 9.0), rng.normal(size=n), rng.normal(5, 0.1, size=n)))
    x[200:, 0] += 10.0
    x[150:160, 2] = 5.0
    x[rng.random(x.shape) < 0.02] = np.nan
    return x


def scores_in_chunks(detector: MaintenanceDetector, x: np.ndarray, sizes: list[int]) -> np.ndarray:
    state, parts, start = detector.start(x.shape[1]), [], 0
    for size in sizes:
        out, state = detector.update(state, x[start : start + size])
        state = MaintenanceState.from_bytes(state.to_bytes())
        parts.append(np.column_stack((out.raw, out.score, out.severe, out.contributions)))
        start += size
    return np.concatenate(parts)


def test_scores_are_the_same_bits_however_the_history_is_chunked_and_restored() -> None:
    detector, x = MaintenanceDetector(SMALL), signal()

    whole = scores_in_chunks(detector, x, [len(x)])
    ones = scores_in_chunks(detector, x, [1] * len(x))
    uneven = scores_in_chunks(detector, x, [7, 1, 93, 2, 150, 47])

    assert np.array_equal(whole, ones, equal_nan=True)
    assert np.array_equal(whole, uneven, equal_nan=True)


def test_a_lasting_level_shift_scores_high_for_several_rows_and_raises_severe_once_at_the_step() -> None:
    detector, x = MaintenanceDetector(SMALL), signal()

    out, _ = detector.update(detector.start(3), x)

    assert (out.contributions[200:215, 0] >= 0.5).sum() >= 10
    assert out.severe[200] and not out.severe[210:].any()


def test_a_frozen_channel_scores_as_stuck_once_its_recent_rows_are_all_equal() -> None:
    detector, x = MaintenanceDetector(SMALL), signal()

    out, _ = detector.update(detector.start(3), x)

    assert (out.contributions[153:160, 2] == 1.0).all() and out.contributions[140:150, 2].max() < 0.5
