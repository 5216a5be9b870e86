"""Narrow window matrices: the same bits as full-capacity ones, so no feature value moved."""

import hashlib

import numpy as np
import pytest

from pdm.features import STATISTICS, FeatureSet, extract, time_window
from pdm.features.statistics import WindowValues
from pdm.features.windows import gather, matrix_width, plan_windows

pytestmark = pytest.mark.unit

SECOND = 1_000_000_000


def readings(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ts = np.cumsum(rng.integers(1, 3, n)) * SECOND // 2
    values = rng.normal(size=(n, 3)) * [1e-3, 1.0, 1e6] + [0.2, 60.0, 1e9]
    values[rng.random((n, 3)) < 0.05] = np.nan
    values[rng.random((n, 3)) < 0.01] = -0.0
    return ts, values


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal including the sign of zero; NaN where the other is NaN."""
    nan = np.isnan(a)
    return np.array_equal(nan, np.isnan(b)) and np.array_equal(
        np.where(nan, 0.0, a).view(np.int64), np.where(nan, 0.0, b).view(np.int64)
    )


def statistics_at_width(capacity: int, ts: np.ndarray, values: np.ndarray, width: int) -> np.ndarray:
    plan = plan_windows(time_window(5, capacity=capacity), ts, 0, 0, -1)
    matrices, slots = gather(values, plan, width)
    seconds = np.where(slots >= 0, (ts[slots] - ts[plan.ends][:, None]) / SECOND, np.nan)
    frame = WindowValues(matrices, lambda: seconds, capacity)
    return np.stack([STATISTICS[s](frame) for s in STATISTICS])


@pytest.mark.parametrize("capacity", [20, 40, 64, 100, 128])
def test_narrowed_matrices_give_every_statistic_the_bits_of_full_capacity_ones(capacity) -> None:
    ts, values = readings(2_000, seed=capacity)
    plan = plan_windows(time_window(5, capacity=capacity), ts, 0, 0, -1)
    width = matrix_width(capacity, int((plan.ends - plan.starts).max()) + 1)

    narrow = statistics_at_width(capacity, ts, values, width)
    full = statistics_at_width(capacity, ts, values, capacity)

    assert width < capacity
    assert same_bits(narrow, full)


@pytest.mark.parametrize(
    ("capacity", "longest", "width"),
    [(64, 10, 16), (64, 3, 8), (64, 64, 64), (20, 9, 12), (40, 35, 40), (5, 2, 5), (200, 10, 200)],
)
def test_matrix_width_keeps_the_capacity_mod_8_and_holds_the_longest_window(capacity, longest, width) -> None:
    assert matrix_width(capacity, longest) == width


def test_default_shaped_feature_values_are_the_ones_v1_always_produced() -> None:
    """Pinned bits (computed with the 64-slot matrices): a change here needs a feature-set version bump."""
    rng = np.random.default_rng(2026)
    ts = np.cumsum(rng.integers(1, 3, 5_000)) * SECOND // 2
    values = rng.normal(size=(5_000, 4)) * [0.01, 1.0, 1.0, 0.1] + [0.2, 60.0, 10.0, 3.0]
    values[rng.random((5_000, 4)) < 0.05] = np.nan
    window = time_window(10, capacity=64, tumbling=True)
    feature_set = FeatureSet(
        "golden", 1, ("a", "b", "c", "d"), window, ("mean", "std", "max", "min", "rms", "slope")
    )

    rows, _ = extract(feature_set, None, ts, values)

    assert len(rows) == 374
    digest = hashlib.sha256(rows.values.tobytes()).hexdigest()
    assert digest == "5de62ef35a0b9e2d48c4afe80df83e0beb9542f683396689132c4954ebf124ae"
