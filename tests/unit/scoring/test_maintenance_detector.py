"""The default online detector: chunk-invariant, exact state round-trips, each fault shape scored."""

import numpy as np
import pytest

from pdm.detection import drift
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


@pytest.mark.parametrize("step_bytes", [drift.STEP_BYTES, 8 * 3 * 44 * 20])
def test_many_series_in_one_call_give_the_bits_of_each_series_alone(
    step_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Series of different lengths, histories and widths (one empty; with small steps, series
    split over several steps and steps holding several series)."""
    monkeypatch.setattr(drift, "STEP_BYTES", step_bytes)
    detector = MaintenanceDetector(SMALL)
    series = [signal(300, seed) for seed in range(4)] + [signal(300, 9)[:, :2]]
    states, alone = [], []
    for i, x in enumerate(series):
        states.append(detector.update(detector.start(x.shape[1]), x[: 37 * i])[1])  # warmed up unequally
    new_rows = [x[37 * i : 37 * i + n] for i, (x, n) in enumerate(zip(series, [5, 0, 1, 260, 12], strict=True))]
    for state, rows in zip(states, new_rows, strict=True):
        alone.append(detector.update(state, rows))

    together = detector.update_many(states, new_rows)

    assert len(together) == len(alone)
    for (got, got_state), (want, want_state) in zip(together, alone, strict=True):
        for name in ("raw", "score", "severe", "contributions"):
            assert getattr(got, name).shape == getattr(want, name).shape
            assert getattr(got, name).tobytes() == getattr(want, name).tobytes()
        assert got_state.to_bytes() == want_state.to_bytes()
