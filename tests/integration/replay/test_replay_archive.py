"""Replay over the real archive: the batch scoring path's numbers, corrections, late readings, outputs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from pdm.infra.archive_reader import read_history
from pdm.replay.history import FLAG_LATE, FlagPolicy
from pdm.replay.output import read_columns, write_columns
from pdm.replay.run import histories, replay_features, replay_scores
from pdm.replay.source import ReplaySource
from pdm.scoring import DEFAULT_MODEL, score_history
from pdm.settings import Settings
from pdm.simulation import Simulator
from tests.integration.replay.conftest import START, simulated_rows, write_rows

pytestmark = pytest.mark.integration
FS = DEFAULT_MODEL.feature_set
END = START + timedelta(days=1)


def source(settings: Settings, **kw: object) -> ReplaySource:
    return ReplaySource(settings, START, END, **kw)  # type: ignore[arg-type]


def test_replayed_features_and_scores_equal_the_batch_scoring_path_bit_for_bit(archive: Settings) -> None:
    sim = Simulator(3, rate_hz=1.0, seed=3, start=START, faults="overheat:pump-1@20m+10m")
    write_rows(archive, simulated_rows(sim, timedelta(minutes=40)))

    table, _ = replay_features(FS, source(archive).histories(FS.channels))
    scores = replay_scores(lambda _: DEFAULT_MODEL, source(archive).histories(FS.channels))

    pg = archive.postgres
    for spec in sim.assets:
        ts, values = read_history(pg.conninfo(), pg.schema_name, spec.asset_id, FS.channels)
        results, _ = score_history(lambda _: DEFAULT_MODEL, spec.asset_id, ts, values)
        mine = table.asset_ids == spec.asset_id
        assert np.array_equal(table.values[mine], np.concatenate([r.features.values for r in results]),
                              equal_nan=True)
        assert np.array_equal(scores.score[scores.asset_ids == spec.asset_id],
                              np.concatenate([r.scores.raw for r in results]))


def test_a_correction_replaces_the_reading_it_corrects_and_the_archive_keeps_both(archive: Settings) -> None:
    at = START + timedelta(seconds=5)
    rows = [("m-1", START + timedelta(seconds=s), 0, {"temperature_c": 50.0}, 0) for s in range(30)]
    write_rows(archive, [*rows, ("m-1", at, 1, {"temperature_c": 99.0}, 0)])

    history = next(histories(archive.postgres.conninfo(), archive.postgres.schema_name,
                             source(archive).span, FS.channels))

    [asset] = history.assets
    assert len(asset) == 30 and asset.superseded == 1
    assert asset.values[5, FS.channels.index("temperature_c")] == 99.0


def test_late_readings_are_left_out_unless_asked_for(archive: Settings) -> None:
    rows = [("m-1", START + timedelta(seconds=s), 0, {"current_a": float(s)}, 0) for s in range(20)]
    write_rows(archive, [*rows, ("m-1", START + timedelta(seconds=30), 0, {"current_a": 1.0}, FLAG_LATE)])

    default = next(source(archive).histories(FS.channels)).assets[0]
    included = next(source(archive, policy=FlagPolicy(include_late=True)).histories(FS.channels)).assets[0]

    assert (len(default), len(included)) == (20, 21)


@pytest.mark.parametrize("suffix", [".npz", ".parquet"])
def test_a_feature_table_file_carries_its_feature_set_version(archive: Settings, tmp_path: Path,
                                                             suffix: str) -> None:
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    sim = Simulator(1, rate_hz=1.0, seed=4, start=START)
    write_rows(archive, simulated_rows(sim, timedelta(minutes=5)))
    table, _ = replay_features(FS, source(archive).histories(FS.channels))

    write_columns(tmp_path / f"f{suffix}", {"asset_id": table.asset_ids, "ts": table.ts_ms,
                                             "f0": table.values[:, 0]}, {"feature_set_version": table.feature_set})
    columns, meta = read_columns(tmp_path / f"f{suffix}")

    assert meta["feature_set_version"] == FS.tag
    assert np.array_equal(columns["f0"], table.values[:, 0], equal_nan=True)
