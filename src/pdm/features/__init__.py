"""Pure, vectorised feature functions shared by the stream worker and the replay path."""

from pdm.features.extraction import FeatureRows, extract, extract_many, values_matrix
from pdm.features.feature_set import FeatureSet, UnknownStatisticError
from pdm.features.spectral import band_energies, dominant_frequency, frame_features, spectral_features
from pdm.features.state import AssetWindowState, IncompatibleStateError
from pdm.features.statistics import STATISTICS, STATISTICS_REVISION
from pdm.features.windows import WindowSpec, count_window, time_window

__all__ = [
    "STATISTICS",
    "STATISTICS_REVISION",
    "AssetWindowState",
    "FeatureRows",
    "FeatureSet",
    "IncompatibleStateError",
    "UnknownStatisticError",
    "WindowSpec",
    "band_energies",
    "count_window",
    "dominant_frequency",
    "extract",
    "extract_many",
    "frame_features",
    "spectral_features",
    "time_window",
    "values_matrix",
]
