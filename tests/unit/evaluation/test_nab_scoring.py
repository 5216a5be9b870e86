"""NAB scoring on small hand-made files whose scores can be worked out by hand."""

import math

import numpy as np
import pytest

from pdm.evaluation import nab_scoring as nab

pytestmark = pytest.mark.unit

STANDARD, LOW_FP, LOW_FN = nab.PROFILES
MINUTE = np.timedelta64(60, "s")
T0 = np.datetime64("2026-01-01T00:00:00", "ns")


def sigmoid_score(position: float) -> float:
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def twenty_rows_window_10_to_13() -> nab.LabelledFile:
    """20 rows, probation = floor(0.15 * 20) = 3 rows, one window over rows 10..13."""
    ts = T0 + MINUTE * np.arange(20)
    return nab.label_file("hand.csv", ts, [(ts[10], ts[13])])


def fire_at(rows: list[int], n: int = 20) -> np.ndarray:
    scores = np.zeros(n)
    scores[rows] = 1.0
    return scores


def corpus_score(files, scores, threshold=0.5, profile=STANDARD) -> float:
    raw = sum(nab.file_score(f, s, threshold, profile) for f, s in zip(files, scores, strict=True))
    return nab.normalise(raw, files, profile)


def test_null_detector_scores_zero_and_perfect_detector_scores_one_hundred() -> None:
    labelled = twenty_rows_window_10_to_13()

    null = corpus_score([labelled], [np.zeros(20)])
    perfect = corpus_score([labelled], [fire_at([10])])

    assert null == 0.0
    assert perfect == pytest.approx(100.0)


def test_detection_at_the_last_row_of_a_window_earns_the_sigmoid_of_minus_a_quarter() -> None:
    labelled = twenty_rows_window_10_to_13()

    raw = nab.file_score(labelled, fire_at([13]), 0.5, STANDARD)

    assert raw == pytest.approx(sigmoid_score(-0.25) / sigmoid_score(-1.0))


def test_only_the_earliest_detection_in_a_window_counts() -> None:
    labelled = twenty_rows_window_10_to_13()

    raw = nab.file_score(labelled, fire_at([11, 12, 13]), 0.5, STANDARD)

    assert raw == pytest.approx(sigmoid_score(-0.75) / sigmoid_score(-1.0))


def test_false_positive_before_any_window_costs_the_full_fp_weight() -> None:
    labelled = twenty_rows_window_10_to_13()

    raw = nab.file_score(labelled, fire_at([5, 10]), 0.5, LOW_FP)

    assert raw == pytest.approx(1.0 - 0.22)


def test_false_positive_after_a_window_costs_less_the_closer_it_is() -> None:
    labelled = twenty_rows_window_10_to_13()

    near = nab.file_score(labelled, fire_at([10, 15]), 0.5, STANDARD)
    far = nab.file_score(labelled, fire_at([10, 19]), 0.5, STANDARD)

    assert near == pytest.approx(1.0 + 0.11 * sigmoid_score(2 / 3))
    assert far == pytest.approx(1.0 + 0.11 * sigmoid_score(2.0))
    assert near > far


def test_missed_window_costs_the_fn_weight_of_the_profile() -> None:
    labelled = twenty_rows_window_10_to_13()

    raw = nab.file_score(labelled, np.zeros(20), 0.5, LOW_FN)

    assert raw == -2.0


def test_detections_in_the_probation_period_are_ignored() -> None:
    labelled = twenty_rows_window_10_to_13()

    raw = nab.file_score(labelled, fire_at([0, 1, 2]), 0.5, STANDARD)

    assert raw == -1.0


def test_probation_is_fifteen_percent_capped_at_750_rows() -> None:
    assert nab.probation_length(20) == 3
    assert nab.probation_length(100_000) == 750


def test_sweep_gives_the_fixed_threshold_score_at_every_candidate_threshold() -> None:
    rng = np.random.default_rng(5)
    files = [twenty_rows_window_10_to_13(), twenty_rows_window_10_to_13()]
    scores = [rng.random(20), rng.random(20)]

    thresholds, totals = nab.sweep(files, scores, STANDARD)

    brute = [
        sum(nab.file_score(f, s, t, STANDARD) for f, s in zip(files, scores, strict=True)) for t in thresholds
    ]
    np.testing.assert_allclose(totals, brute, atol=1e-12)


def test_best_threshold_prefers_the_higher_threshold_on_ties() -> None:
    labelled = twenty_rows_window_10_to_13()
    scores = np.zeros(20)
    scores[10], scores[11] = 0.9, 0.8

    threshold, raw = nab.best_threshold([labelled], [scores], STANDARD)

    assert threshold == 0.9
    assert raw == pytest.approx(1.0)
