"""Window statistics against straightforward numpy references."""

import numpy as np
import pytest

from pdm.features import FeatureSet, count_window, extract
from pdm.features.statistics import STATISTICS

pytestmark = pytest.mark.unit


def reference(window: np.ndarray, seconds: np.ndarray) -> dict[str, float]:
    centred = window - window.mean()
    rms = np.sqrt(np.mean(window**2))
    return {
        "mean": window.mean(),
        "std": window.std(),
        "min": window.min(),
        "max": window.max(),
        "rms": rms,
        "p2p": np.ptp(window),
        "skew": np.mean(centred**3) / window.std() ** 3,
        "kurtosis": np.mean(centred**4) / window.var() ** 2 - 3.0,
        "crest": np.abs(window).max() / rms,
        "slope": np.polyfit(seconds, window, 1)[0],
    }


def test_count_window_statistics_match_numpy_references() -> None:
    rng = np.random.default_rng(7)
    ts = np.cumsum(rng.integers(1, 4, 40)) * 1_000_000_000
    values = rng.normal(3.0, 2.0, (40, 1))
    names = tuple(s for s in STATISTICS if s != "ewma")
    feature_set = FeatureSet("ref", 1, ("x",), count_window(16), names)

    rows, _ = extract(feature_set, None, ts, values)

    last = values[-16:, 0]
    expected = reference(last, (ts[-16:] - ts[-1]) / 1e9)
    np.testing.assert_allclose(rows.values[-1], [expected[n] for n in names], rtol=1e-9)


def test_ewma_weights_recent_readings_with_span_equal_to_window() -> None:
    values = np.arange(8, dtype=float)[:, None]
    feature_set = FeatureSet("ref", 1, ("x",), count_window(8), ("ewma",))
    alpha = 2.0 / 9.0
    weights = (1 - alpha) ** np.arange(7, -1, -1)

    rows, _ = extract(feature_set, None, np.arange(8) * 10**9, values)

    assert rows.values[0, 0] == pytest.approx((weights * values[:, 0]).sum() / weights.sum())


def test_constant_window_has_zero_skew_and_kurtosis_rather_than_nan() -> None:
    feature_set = FeatureSet("flat", 1, ("x",), count_window(4), ("skew", "kurtosis", "std"))

    rows, _ = extract(feature_set, None, np.arange(4) * 10**9, np.full((4, 1), 5.0))

    assert rows.values.tolist() == [[0.0, 0.0, 0.0]]


def test_missing_channel_values_are_left_out_of_the_statistics() -> None:
    values = np.array([[1.0], [np.nan], [3.0], [5.0]])
    feature_set = FeatureSet("gaps", 1, ("x",), count_window(4), ("mean", "max"))

    rows, _ = extract(feature_set, None, np.arange(4) * 10**9, values)

    assert rows.values.tolist() == [[3.0, 5.0]]
