"""PCA and IsolationForest: scores, explanations, artifacts and thresholds."""

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest

from pdm.detection import (
    ArtifactFormatError,
    IsolationForestDetector,
    ModelArtifact,
    PcaDetector,
    TrainingContext,
    UnknownAlgorithmError,
    calibrate_threshold,
    load_detector,
    top_contributors,
)

pytestmark = pytest.mark.unit

NAMES = ("temp", "vib", "current", "pressure")
CONTEXT = TrainingContext("pump/v1+stats1/sliding_64r", NAMES, "2026-01-01T00:00:00Z", "2026-01-08T00:00:00Z")


def normal_history(n: int = 400) -> np.ndarray:
    rng = np.random.default_rng(42)
    base = rng.normal(size=(n, 2))
    return np.column_stack([base[:, 0], base[:, 0] * 0.9 + 0.1 * base[:, 1], base[:, 1], rng.normal(size=n)])


def probe_rows() -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.normal(size=(50, 4)) * 2.0


@pytest.mark.parametrize("detector_class", [PcaDetector, IsolationForestDetector])
def test_loaded_artifact_scores_exactly_like_the_original(detector_class) -> None:
    original = detector_class().fit(normal_history(), CONTEXT)

    loaded = load_detector(original.to_artifact().to_bytes())

    assert np.array_equal(loaded.score(probe_rows()).raw, original.score(probe_rows()).raw)
    assert loaded.threshold == original.threshold


@pytest.mark.parametrize("detector_class", [PcaDetector, IsolationForestDetector])
def test_content_hash_is_stable_across_serialisation_and_refits(detector_class) -> None:
    first = detector_class().fit(normal_history(), CONTEXT).to_artifact()

    again = detector_class().fit(normal_history(), CONTEXT).to_artifact()
    reloaded = ModelArtifact.from_bytes(first.to_bytes())

    assert first.content_hash == again.content_hash == reloaded.content_hash
    assert len(first.content_hash) == 64


def test_artifact_carries_algorithm_params_feature_set_and_training_window() -> None:
    artifact = IsolationForestDetector(n_estimators=10, seed=3).fit(normal_history(), CONTEXT).to_artifact()

    header = ModelArtifact.from_bytes(artifact.to_bytes())

    assert header.algorithm == "isolation_forest"
    assert header.params["n_estimators"] == 10 and header.params["seed"] == 3
    assert header.feature_set == CONTEXT.feature_set
    assert header.training_window == (CONTEXT.window_start, CONTEXT.window_end)


def test_numpy_forest_scores_equal_scikit_learn_score_samples() -> None:
    history = normal_history()
    ours = IsolationForestDetector(n_estimators=40, seed=9).fit(history, CONTEXT)

    theirs = IsolationForest(n_estimators=40, max_samples=256, random_state=9).fit(history)

    assert np.array_equal(ours.score(probe_rows()).raw, -theirs.score_samples(probe_rows()))


def test_pca_blames_the_channel_whose_correlation_broke() -> None:
    detector = PcaDetector().fit(normal_history(), CONTEXT)
    broken = np.array([[2.0, -2.0, 0.0, 0.0]])

    scores = detector.score(broken)

    assert scores.raw[0] > detector.threshold
    assert {name for name, _ in top_contributors(scores.contributions, NAMES, 2)[0]} == {"temp", "vib"}


def test_isolation_forest_blames_the_channel_that_isolates_the_reading() -> None:
    detector = IsolationForestDetector(seed=1).fit(normal_history(), CONTEXT)

    scores = detector.score(np.array([[0.0, 0.0, 0.0, 12.0], [0.0, 0.0, 0.0, 0.0]]))

    assert scores.raw[0] > scores.raw[1]
    assert top_contributors(scores.contributions, NAMES, 1)[0][0][0] == "pressure"


def test_calibrated_threshold_is_the_chosen_quantile_of_normal_scores() -> None:
    scores = np.arange(1000, dtype=float)

    threshold = calibrate_threshold(scores, 0.99)

    assert threshold == 990.0
    assert (scores >= threshold).mean() == pytest.approx(0.01)


def test_tampered_or_foreign_bytes_are_refused() -> None:
    raw = PcaDetector().fit(normal_history(), CONTEXT).to_artifact().to_bytes()

    with pytest.raises(ArtifactFormatError):
        ModelArtifact.from_bytes(raw[:-3])
    with pytest.raises(ArtifactFormatError):
        ModelArtifact.from_bytes(b"\x80\x04pickle")


def test_artifact_of_unknown_algorithm_is_refused() -> None:
    artifact = ModelArtifact("quantum_oracle", {}, "fs", ("x",), ("a", "b"), None, {})

    with pytest.raises(UnknownAlgorithmError):
        load_detector(artifact.to_bytes())


def test_top_contributors_are_ordered_shares_of_the_total() -> None:
    contributions = np.array([[1.0, 3.0, 0.0, 4.0]])

    top = top_contributors(contributions, NAMES, 2)

    assert top == [[("pressure", 0.5), ("vib", 0.375)]]
