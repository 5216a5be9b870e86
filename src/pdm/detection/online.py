"""The online robust baseline: per-channel robust z-scores, anomaly likelihood, no training.

It scores from the first readings of a new asset, keeps only a bounded tail per asset, and
gives the same bits whether a history is fed in one call or one reading at a time.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from pdm.detection.likelihood import LikelihoodParams, LikelihoodState, likelihood
from pdm.detection.rolling import as_rows, inclusive_windows, lagged, trailing_windows, window_quantiles
from pdm.features.state import decode_array, encode_array

IQR_TO_SIGMA = 1.349
MEAN_ABS_TO_SIGMA = 1.2533


@dataclass(frozen=True)
class OnlineParams:
    baseline_window: int = 400
    level_window: int = 6
    z_cap: float = 8.0
    likelihood: LikelihoodParams = field(default_factory=LikelihoodParams)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class OnlineState:
    """Tails of values and differences, and the likelihood stage's sums."""

    values: np.ndarray
    diffs: np.ndarray
    likelihood: LikelihoodState

    @classmethod
    def empty(cls, channels: int) -> OnlineState:
        return cls(np.empty((0, channels)), np.empty((0, channels)), LikelihoodState.empty())

    def to_dict(self) -> dict[str, Any]:
        return {
            "values": encode_array(self.values),
            "diffs": encode_array(self.diffs),
            "raws": encode_array(self.likelihood.raws),
            "sums": encode_array(self.likelihood.sums),
            "seen": self.likelihood.seen,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OnlineState:
        tail = LikelihoodState(decode_array(data["raws"]), decode_array(data["sums"]), data["seen"])
        return cls(decode_array(data["values"]), decode_array(data["diffs"]), tail)

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> OnlineState:
        return cls.from_dict(json.loads(raw))


@dataclass(frozen=True)
class OnlineScores:
    """Final scores in [0, 1], the raw score they came from, and each channel's raw score."""

    score: np.ndarray
    raw: np.ndarray
    contributions: np.ndarray


def robust_z(windows: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Distance of `current` from each window's median in robust standard deviations.

    The scale is the larger of the IQR-based and the mean-absolute-deviation-based sigma:
    on count data the IQR is often zero, and a zero scale would turn any change into an alarm.
    """
    low, median, high = window_quantiles(windows, (0.25, 0.5, 0.75))
    with np.errstate(invalid="ignore"):
        spread = np.abs(windows - median[..., None])
        valid = ~np.isnan(spread)
        mean_abs = np.where(valid, spread, 0.0).sum(axis=-1) / valid.sum(axis=-1)
        scale = np.maximum((high - low) / IQR_TO_SIGMA, MEAN_ABS_TO_SIGMA * mean_abs)
        scale = np.maximum(scale, 1e-9 * (1.0 + np.abs(median)))
        return (current - median) / scale


def raw_scores(params: OnlineParams, state: OnlineState, x: np.ndarray) -> np.ndarray:
    """Per-channel raw score in [0, 1]: the worst of value, first-difference and level z-scores."""
    width = params.baseline_window
    diffs = x - lagged(state.values[-1:], x, 1)
    value_windows = trailing_windows(state.values, x, width)
    z_value = robust_z(value_windows, x)
    z_diff = robust_z(trailing_windows(state.diffs, diffs, width), diffs)
    level = inclusive_windows(state.values, x, params.level_window)
    with np.errstate(invalid="ignore"):
        level_mean = np.where(np.isnan(level), 0.0, level).sum(axis=-1) / params.level_window
        z_level = robust_z(value_windows, level_mean)
    worst = np.fmax(np.fmax(np.abs(z_value), np.abs(z_diff)), np.abs(z_level))
    return np.nan_to_num(np.minimum(worst / params.z_cap, 1.0), nan=0.0)


def score(params: OnlineParams, state: OnlineState, x: np.ndarray) -> tuple[OnlineScores, OnlineState]:
    """Score new readings (rows) of one asset's channels (columns), in arrival order."""
    x = as_rows(x)
    per_channel = raw_scores(params, state, x)
    raw = per_channel.max(axis=1) if per_channel.size else np.zeros(len(x))
    scores, tail = likelihood(params.likelihood, state.likelihood, raw)
    diffs = x - lagged(state.values[-1:], x, 1)
    keep = params.baseline_window + params.level_window
    next_state = OnlineState(
        np.concatenate((state.values, x))[-keep:],
        np.concatenate((state.diffs, diffs))[-params.baseline_window :],
        tail,
    )
    return OnlineScores(scores, raw, per_channel), next_state


class OnlineDetector:
    """The online robust baseline behind the streaming-detector interface evaluation uses."""

    algorithm = "online_robust_likelihood"

    def __init__(self, params: OnlineParams | None = None) -> None:
        self.params = params or OnlineParams()

    def start(self, channels: int) -> OnlineState:
        return OnlineState.empty(channels)

    def update(self, state: OnlineState, values: np.ndarray) -> tuple[OnlineScores, OnlineState]:
        return score(self.params, state, values)
