"""Anomaly detectors: online baselines for streams, trained models with pickle-free artifacts."""

from pdm.detection.artifacts import ArtifactFormatError, ModelArtifact
from pdm.detection.base import (
    Detector,
    Scores,
    TrainingContext,
    calibrate_threshold,
    top_contributors,
)
from pdm.detection.contextual import (
    CONTEXTUAL_THRESHOLD,
    ContextualDetector,
    ContextualParams,
    ContextualScores,
    ContextualState,
)
from pdm.detection.hysteresis import Hysteresis, HysteresisState, Transition
from pdm.detection.isolation_forest import IsolationForestDetector
from pdm.detection.novelty import DEFAULT_THRESHOLD, NoveltyDetector, NoveltyParams, NoveltyState
from pdm.detection.online import OnlineDetector, OnlineParams, OnlineState
from pdm.detection.pca import PcaDetector
from pdm.detection.registry import UnknownAlgorithmError, load_detector

__all__ = [
    "CONTEXTUAL_THRESHOLD",
    "DEFAULT_THRESHOLD",
    "ArtifactFormatError",
    "ContextualDetector",
    "ContextualParams",
    "ContextualScores",
    "ContextualState",
    "Detector",
    "Hysteresis",
    "HysteresisState",
    "IsolationForestDetector",
    "ModelArtifact",
    "NoveltyDetector",
    "NoveltyParams",
    "NoveltyState",
    "OnlineDetector",
    "OnlineParams",
    "OnlineState",
    "PcaDetector",
    "Scores",
    "TrainingContext",
    "Transition",
    "UnknownAlgorithmError",
    "calibrate_threshold",
    "load_detector",
    "top_contributors",
]
