"""Training sets, exclusions, reproducible fits and backtests, on synthetic features."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from pdm.replay.output import read_columns, write_columns
from pdm.scoring import DEFAULT_MODEL, trained_model
from pdm.training.backtest import Label, backtest
from pdm.training.dataset import FeatureBuilder, feature_table
from pdm.training.fit import NotEnoughDataError, fit
from pdm.training.spec import Period, TrainingSpec, excluded_rows

pytestmark = pytest.mark.unit
FS = DEFAULT_MODEL.feature_set
T0 = datetime(2026, 1, 1, tzinfo=UTC)
T0_MS = 1_767_225_600_000


def history(n: int = 3_000, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return T0_MS + np.arange(n, dtype=np.int64) * 1000, rng.normal(size=(n, len(FS.channels)))


def test_features_do_not_depend_on_how_the_history_is_sliced() -> None:
    ts, values = history()
    builder = FeatureBuilder(FS)

    for part in np.array_split(np.arange(len(ts)), 7):
        builder.add("m", ts[part], values[part])
    whole = feature_table(FS, [("m", ts, values)])

    assert np.array_equal(builder.table().values, whole.values, equal_nan=True)


def test_the_same_table_seed_and_params_give_the_same_artifact_hash() -> None:
    table = feature_table(FS, [("m", *history())])

    first, second = fit(table, "isolation_forest", 3, {"n_estimators": 10}), fit(table, "isolation_forest", 3,
                                                                                {"n_estimators": 10})
    other_seed = fit(table, "isolation_forest", 4, {"n_estimators": 10})

    assert first.artifact_hash == second.artifact_hash != other_seed.artifact_hash


def test_too_few_rows_refuse_to_train() -> None:
    table = feature_table(FS, [("m", *history(30))])

    with pytest.raises(NotEnoughDataError):
        fit(table, "pca_t2_q", 0)


def test_rows_whose_window_overlaps_a_confirmed_fault_of_their_asset_are_excluded() -> None:
    ids = np.array(["a", "a", "a", "b"], dtype=object)
    ends = np.array([10_000, 20_000, 30_000, 20_000], np.int64)
    fault = Period("a", datetime.fromtimestamp(15, UTC), datetime.fromtimestamp(16, UTC), "fault")

    mask = excluded_rows(ids, ends, 10_000, (fault,))

    assert mask.tolist() == [False, True, False, False]


def test_a_spec_survives_the_round_trip_through_the_recorded_parameters_and_lineage() -> None:
    spec = TrainingSpec("pca_t2_q", 5, T0, T0 + timedelta(days=2), T0 + timedelta(days=1), ("a", "b"), T0,
                        (Period("a", T0, T0 + timedelta(hours=1), "fault"),), detector={"variance_kept": 0.9})
    lineage = {"data_from": spec.data_from, "data_to": spec.data_to, "assets": list(spec.assets),
               "archive_watermark": spec.watermark, "seed": spec.seed, "code_version": "x"}

    again = TrainingSpec.from_record(spec.algorithm, spec.parameters(), lineage)

    assert again == spec


def test_the_backtest_counts_onsets_per_asset_day_and_scores_them_against_labels() -> None:
    ts, values = history(4_000)
    values[3_000:3_300] += 25.0
    table = feature_table(FS, [("m", ts, values)])
    fitted = fit(table.select(table.ts_ms < ts[2_900]), "pca_t2_q", 0)
    model = trained_model("t", fitted.artifact)
    fault = Period("m", T0 + timedelta(seconds=3_000), T0 + timedelta(seconds=3_400), "fault")
    span = (int(ts[0]), int(ts[-1]))

    metrics = backtest(model, table, span, [Label(fault, True)])

    assert metrics["recall"] == 1.0 and metrics["precision"] > 0
    assert metrics["alert_rate_per_asset_day"] > 0


@pytest.mark.parametrize("suffix", [".npz", ".parquet"])
def test_output_files_round_trip_with_their_metadata(tmp_path: Path, suffix: str) -> None:
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    columns = {"asset_id": np.array(["a", "b"], dtype=object), "ts": np.array([1, 2], np.int64),
               "x": np.array([0.5, np.nan])}

    write_columns(tmp_path / f"t{suffix}", columns, {"feature_set_version": FS.tag})
    back, meta = read_columns(tmp_path / f"t{suffix}")

    assert meta == {"feature_set_version": FS.tag}
    assert back["asset_id"].tolist() == ["a", "b"]
    assert np.array_equal(back["x"], columns["x"], equal_nan=True)
