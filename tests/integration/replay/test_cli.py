"""`pdm replay` and `pdm retrain` as an operator runs them: subprocesses on a small archive."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from pdm.settings import Settings
from pdm.simulation import Simulator
from tests.conftest import settings_env
from tests.integration.replay.conftest import START, simulated_rows, write_rows

pytestmark = pytest.mark.integration
END = START + timedelta(minutes=40)
RANGE = ("--from", START.isoformat(), "--to", END.isoformat())


def pdm(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pdm", *args], env=settings_env(settings),
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def history(archive: Settings) -> Settings:
    sim = Simulator(2, rate_hz=1.0, seed=5, start=START, faults="overheat:pump-1@30m+5m")
    write_rows(archive, simulated_rows(sim, END - START))
    return archive


def test_pdm_replay_writes_a_parquet_feature_table_naming_its_feature_set(history: Settings,
                                                                        tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "features.parquet"

    done = pdm(history, "replay", *RANGE, "--asset", "pump-1", "--out", str(out))

    assert done.returncode == 0, done.stderr
    table = pq.read_table(out)
    meta = json.loads(table.schema.metadata[b"pdm"])
    assert meta["feature_set_version"].startswith("pdm-default/v1")
    assert set(table.column("asset_id").to_pylist()) == {"pump-1"}
    assert table.num_rows == 40 * 6 - 1  # ten-second windows, the last one still open


def test_pdm_replay_scores_mark_where_the_fault_would_have_raised(history: Settings, tmp_path: Path) -> None:
    out = tmp_path / "scores.npz"

    done = pdm(history, "replay", *RANGE, "--scores", "--out", str(out))

    assert done.returncode == 0, done.stderr
    scores = np.load(out, allow_pickle=True)
    onsets = set(scores["asset_id"][scores["onset"]].tolist())
    assert "pump-1" in onsets


def test_pdm_retrain_records_a_model_that_retrains_from_its_lineage_to_the_same_hash(history: Settings) -> None:
    trained = pdm(history, "retrain", *RANGE, "--algorithm", "pca", "--seed", "7", "--holdout", "10m")
    artifact = json.loads(trained.stdout)["artifact_hash"] if trained.returncode == 0 else ""

    again = pdm(history, "retrain", "--from-lineage", artifact)

    assert trained.returncode == 0, trained.stderr
    assert again.returncode == 0, again.stderr
    assert "reproduced: same artifact hash" in again.stderr
