"""Replays of labelled directories: causality, reports, point metrics."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from pdm.detection import NoveltyDetector, NoveltyParams
from pdm.evaluation import evaluate_directory, point_metrics, replay, run_labelled

pytestmark = pytest.mark.unit


class SpikeDetector:
    """Scores 1 when a value exceeds 10: enough to check the plumbing by hand."""

    algorithm = "spike"

    def start(self, channels: int) -> None:
        return None

    def update(self, state, values):
        class Batch:
            score = (values[:, 0] > 10).astype(float)

        return Batch(), state


def write_corpus(root: Path) -> Path:
    ts = np.datetime64("2026-03-01T00:00") + np.timedelta64(5, "m") * np.arange(100)
    values = np.ones(100)
    values[60] = 50.0
    (root / "plant").mkdir()
    lines = ["timestamp,value"] + [
        f"{str(t).replace('T', ' ')}:00,{v}" for t, v in zip(ts, values, strict=True)
    ]
    (root / "plant" / "pump.csv").write_text("\n".join(lines))
    window = [f"{str(ts[55]).replace('T', ' ')}:00.000000", f"{str(ts[64]).replace('T', ' ')}:00.000000"]
    labels = root / "windows.json"
    labels.write_text(json.dumps({"plant/pump.csv": [window]}))
    return labels


def test_report_of_a_detector_that_fires_inside_the_window(tmp_path: Path) -> None:
    labels = write_corpus(tmp_path)

    report = evaluate_directory(tmp_path, labels, SpikeDetector, threshold=0.5)

    earned = (2 / (1 + math.exp(-2.5)) - 1) / (2 / (1 + math.exp(-5)) - 1)
    assert report.score("standard", "fixed") == pytest.approx(100 * (1 + earned) / 2)
    assert report.score("standard", "corpus_optimised") == report.score("standard", "fixed")
    assert report.rows == 100 and report.files == 1
    assert "standard" in report.as_table()
    assert report.as_dict()["point"]["true_positives"] == 1.0


def test_run_labelled_uses_the_default_online_detector(tmp_path: Path) -> None:
    labels = write_corpus(tmp_path)

    report = run_labelled(tmp_path, labels, threshold=None)

    assert report.detector == "contextual_drift"
    assert {r.mode for r in report.results} == {"fixed", "corpus_optimised"}


def test_replay_never_lets_a_score_depend_on_later_readings() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(600, 1))
    altered = x.copy()
    altered[400:] += 100.0
    detector = NoveltyDetector(NoveltyParams(block=10, blocks=10, min_history=20))

    original, changed = replay(detector, x, chunk=128), replay(detector, altered, chunk=128)

    assert np.array_equal(original[:400], changed[:400])
    assert not np.array_equal(original[400:], changed[400:])


def test_replay_one_reading_at_a_time_equals_large_chunks() -> None:
    x = np.random.default_rng(6).normal(size=(300, 1)).cumsum(axis=0)
    detector = NoveltyDetector(NoveltyParams(block=10, blocks=10, min_history=20))

    assert np.array_equal(replay(detector, x, chunk=1), replay(detector, x, chunk=4096))


def test_point_metrics_count_rows_and_derive_rates() -> None:
    truth = np.array([1, 1, 0, 0, 0, 0], bool)
    flagged = np.array([1, 0, 1, 0, 0, 0], bool)

    metrics = point_metrics(truth, flagged)

    assert (metrics.precision, metrics.recall, metrics.f1) == (0.5, 0.5, 0.5)
    assert metrics.false_alarm_rate == 0.25
    assert metrics.missed_alarm_rate == 0.5
