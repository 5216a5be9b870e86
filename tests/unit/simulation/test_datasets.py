"""write_csv_dataset: one CSV per asset plus labels a NAB-style evaluator can score."""

import csv
import json
from datetime import timedelta
from pathlib import Path

import pytest

from pdm.simulation import Simulator, write_csv_dataset

pytestmark = pytest.mark.unit


def test_a_dataset_has_one_csv_per_asset_and_matching_labels(tmp_path: Path) -> None:
    sim = Simulator(assets=2, rate_hz=0.5, seed=1, dropout_rate=0.01, faults="overheat:motor-1@10m+5m")

    files = write_csv_dataset(sim, tmp_path, timedelta(hours=1))

    with files.csv_files["motor-1"].open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["timestamp", "vibration_rms", "temperature_c", "current_a"]
    assert len(rows) == 1 + 1800
    assert rows[1][0] == "2026-01-01 00:00:00.000000" and rows[2][0] == "2026-01-01 00:00:02.000000"
    windows = json.loads(files.labels.read_text())
    assert windows == {
        "pump-1.csv": [],
        "motor-1.csv": [["2026-01-01 00:10:00.000000", "2026-01-01 00:14:58.000000"]],
    }
    detailed = json.loads(files.detailed_labels.read_text())
    assert detailed[0]["kind"] == "overheat" and detailed[0]["start"] == "2026-01-01T00:10:00.000Z"
    manifest = json.loads(files.manifest.read_text())
    assert manifest["faults"] == ["overheat:motor-1@10m+5m"] and manifest["seed"] == 1


def test_csv_values_are_the_simulated_values_exactly(tmp_path: Path) -> None:
    sim = Simulator(assets=1, seed=4, dropout_rate=0.2)

    files = write_csv_dataset(sim, tmp_path, timedelta(seconds=50))

    with files.csv_files["pump-1"].open() as handle:
        rows = list(csv.reader(handle))[1:]
    expected = sim.slice(0, 50).values[0]
    parsed = [[float(v) if v else float("nan") for v in row[1:]] for row in rows]
    assert [[repr(v) for v in row] for row in parsed] == [[repr(v) for v in row] for row in expected.tolist()]
