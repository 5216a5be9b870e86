"""Which class restores an artifact: looked up by the algorithm name the artifact carries."""

from __future__ import annotations

from pdm.detection.artifacts import ModelArtifact
from pdm.detection.base import Detector
from pdm.detection.isolation_forest import IsolationForestDetector
from pdm.detection.pca import PcaDetector

TRAINED_DETECTORS: dict[str, type[PcaDetector] | type[IsolationForestDetector]] = {
    PcaDetector.algorithm: PcaDetector,
    IsolationForestDetector.algorithm: IsolationForestDetector,
}


class UnknownAlgorithmError(ValueError):
    """An artifact names an algorithm this build cannot score."""


def load_detector(raw: bytes) -> Detector:
    """Rebuild a trained detector from artifact bytes (no pickle, so no code runs on load)."""
    artifact = ModelArtifact.from_bytes(raw)
    try:
        cls = TRAINED_DETECTORS[artifact.algorithm]
    except KeyError:
        raise UnknownAlgorithmError(artifact.algorithm) from None
    return cls.from_artifact(artifact)
