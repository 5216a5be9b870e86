"""`pdm eval` on the simulator's labelled output prints both threshold modes."""

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from pdm.cli.main import app
from pdm.simulation import Simulator, write_csv_dataset

pytestmark = pytest.mark.unit


def test_eval_on_a_simulated_dataset_reports_fixed_and_optimised_scores(tmp_path) -> None:
    sim = Simulator(2, rate_hz=1.0, seed=3, faults="overheat:pump-1@20m+10m")
    files = write_csv_dataset(sim, tmp_path, timedelta(minutes=40))

    result = CliRunner().invoke(app, ["eval", str(tmp_path), "--labels", str(files.labels)], env={"COLUMNS": "160"})

    assert result.exit_code == 0, result.output
    assert "optimised" in result.output and "fixed" in result.output


def test_eval_without_labels_for_a_directory_fails_with_one_line(tmp_path) -> None:
    result = CliRunner().invoke(app, ["eval", str(tmp_path)])

    assert result.exit_code == 2
