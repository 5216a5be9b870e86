"""Detection quality: NAB scoring, point-wise metrics and causal replays of labelled CSVs."""

from pdm.evaluation.metrics import PointMetrics, point_metrics
from pdm.evaluation.nab_scoring import PROFILES, Profile
from pdm.evaluation.replay import StreamingDetector, read_series, read_windows, replay
from pdm.evaluation.report import NabReport, ProfileResult
from pdm.evaluation.runner import evaluate_directory, run_labelled, run_nab

__all__ = [
    "PROFILES",
    "NabReport",
    "PointMetrics",
    "Profile",
    "ProfileResult",
    "StreamingDetector",
    "evaluate_directory",
    "point_metrics",
    "read_series",
    "read_windows",
    "replay",
    "run_labelled",
    "run_nab",
]
