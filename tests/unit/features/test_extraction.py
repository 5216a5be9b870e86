"""Windows, chunking determinism and state round-trips of feature extraction."""

import numpy as np
import pytest

from pdm.features import (
    STATISTICS,
    AssetWindowState,
    FeatureSet,
    IncompatibleStateError,
    UnknownStatisticError,
    count_window,
    extract,
    extract_many,
    time_window,
)

pytestmark = pytest.mark.unit

SECOND = 1_000_000_000
WINDOWS = [
    count_window(8),
    count_window(8, tumbling=True),
    time_window(20, capacity=16),
    time_window(30, capacity=40, tumbling=True),
    time_window(10, capacity=64, tumbling=True),
]


def history(n: int = 300, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ts = np.cumsum(rng.integers(1, 5, n)) * SECOND
    values = rng.normal(size=(n, 2)) * [1.0, 1e6] + [0.0, 1e9]
    values[rng.choice(n, 10, replace=False), 0] = np.nan
    return ts, values


def in_chunks(feature_set, ts, values, cuts, restore=False):
    state, parts = None, []
    for index in np.split(np.arange(len(ts)), cuts):
        rows, state = extract(feature_set, state, ts[index], values[index])
        parts.append(rows)
        if restore:
            state = AssetWindowState.from_bytes(state.to_bytes(), feature_set.tag)
    return np.concatenate([p.ts for p in parts]), np.concatenate([p.values for p in parts])


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: w.label)
def test_chunked_stream_features_equal_batch_features_bit_for_bit(window) -> None:
    ts, values = history()
    feature_set = FeatureSet("det", 1, ("a", "b"), window, tuple(STATISTICS))
    one_shot, _ = extract(feature_set, None, ts, values)
    rng = np.random.default_rng(11)

    chunkings = [np.sort(rng.choice(np.arange(1, len(ts)), k, replace=False)) for k in (1, 7, 60, 299)]
    results = [in_chunks(feature_set, ts, values, cuts) for cuts in chunkings]

    for chunk_ts, chunk_values in results:
        assert np.array_equal(chunk_ts, one_shot.ts)
        assert np.array_equal(chunk_values, one_shot.values, equal_nan=True)


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: w.label)
def test_state_restored_from_bytes_continues_exactly(window) -> None:
    ts, values = history(seed=5)
    feature_set = FeatureSet("det", 1, ("a", "b"), window, ("mean", "std", "slope"))
    one_shot, _ = extract(feature_set, None, ts, values)

    chunk_ts, chunk_values = in_chunks(feature_set, ts, values, [50, 51, 140, 200], restore=True)

    assert np.array_equal(chunk_values, one_shot.values, equal_nan=True)
    assert np.array_equal(chunk_ts, one_shot.ts)


def test_count_windows_emit_once_full_and_tumbling_ones_every_size_readings() -> None:
    ts, values = np.arange(20) * SECOND, np.arange(20.0)[:, None]

    sliding, _ = extract(FeatureSet("s", 1, ("x",), count_window(5), ("mean",)), None, ts, values)
    tumbling, _ = extract(
        FeatureSet("t", 1, ("x",), count_window(5, tumbling=True), ("mean",)), None, ts, values
    )

    assert len(sliding) == 16
    assert tumbling.values[:, 0].tolist() == [2.0, 7.0, 12.0, 17.0]


def test_time_tumbling_bucket_closes_when_a_later_bucket_starts() -> None:
    ts = np.array([0, 10, 59, 60, 75, 130]) * SECOND
    values = np.array([[1.0], [2.0], [3.0], [10.0], [20.0], [0.0]])
    feature_set = FeatureSet("t", 1, ("x",), time_window(60, capacity=10, tumbling=True), ("mean", "max"))

    rows, state = extract(feature_set, None, ts, values)

    assert rows.values.tolist() == [[2.0, 3.0], [15.0, 20.0]]
    assert (rows.ts // SECOND).tolist() == [60, 120]
    assert state.last_ts == 130 * SECOND


def test_reading_older_than_one_accepted_is_dropped_and_counted() -> None:
    feature_set = FeatureSet("s", 1, ("x",), count_window(2), ("mean",))

    rows, state = extract(
        feature_set, None, np.array([10, 5, 20]) * SECOND, np.array([[1.0], [100.0], [3.0]])
    )

    assert rows.values[:, 0].tolist() == [2.0]
    assert rows.dropped_late == 1
    assert state.seen == 2


def test_many_assets_in_one_batch_equal_each_asset_alone() -> None:
    ts, values = history(n=60)
    ids = np.array(["pump-1", "pump-2", "pump-3"] * 20)
    feature_set = FeatureSet("m", 1, ("a", "b"), count_window(5), ("mean", "rms"))

    rows, states = extract_many(feature_set, {}, ids, ts, values)

    alone, _ = extract(feature_set, None, ts[ids == "pump-2"], values[ids == "pump-2"])
    assert np.array_equal(rows.values[rows.asset_ids == "pump-2"], alone.values, equal_nan=True)
    assert sorted(states) == ["pump-1", "pump-2", "pump-3"]


def test_every_feature_row_carries_the_feature_set_tag() -> None:
    feature_set = FeatureSet("vibration", 3, ("x",), count_window(2), ("mean",))

    rows, _ = extract(feature_set, None, np.arange(4) * SECOND, np.ones((4, 1)))

    assert rows.feature_set == feature_set.tag
    assert feature_set.tag.startswith("vibration/v3+stats")


def test_state_of_another_feature_set_is_refused() -> None:
    state = AssetWindowState.empty("old/v1", 1)

    with pytest.raises(IncompatibleStateError):
        AssetWindowState.from_bytes(state.to_bytes(), "new/v2")


def test_unknown_statistic_is_refused_when_the_feature_set_is_declared() -> None:
    with pytest.raises(UnknownStatisticError):
        FeatureSet("bad", 1, ("x",), count_window(4), ("median_of_medians",))
