"""Streaming detectors `pdm eval` can replay, by name."""

from __future__ import annotations

from pdm.detection.contextual import ContextualDetector
from pdm.detection.maintenance import MaintenanceDetector
from pdm.detection.novelty import NoveltyDetector
from pdm.detection.online import OnlineDetector
from pdm.evaluation.replay import DetectorFactory

DEFAULT_DETECTOR = MaintenanceDetector.algorithm
"""The stream worker's detector too (pdm.scoring.model), with NAB's parameters."""

STREAMING_DETECTORS: dict[str, DetectorFactory] = {
    NoveltyDetector.algorithm: NoveltyDetector,
    ContextualDetector.algorithm: ContextualDetector,
    MaintenanceDetector.algorithm: MaintenanceDetector,
    OnlineDetector.algorithm: OnlineDetector,
}


class UnknownDetectorError(ValueError):
    """No streaming detector has this name."""


def detector_factory(name: str) -> DetectorFactory:
    try:
        return STREAMING_DETECTORS[name]
    except KeyError:
        known = ", ".join(sorted(STREAMING_DETECTORS))
        raise UnknownDetectorError(f"unknown detector {name!r}; known: {known}") from None
