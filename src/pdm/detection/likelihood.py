"""Anomaly likelihood: how unusual the recent average raw score is against its own long history.

After Numenta's HTM post-processing (Ahmad et al., 2017): a raw score that is often high
(a noisy channel) stops alarming, while a rise on a quiet channel stands out. Causal: the
distribution is estimated from averages strictly before the current one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pdm.detection.rolling import carried_cumsum, inclusive_windows, window_mean

MEAN_FLOOR = 0.03
VARIANCE_FLOOR = 0.0003
LOG_EPSILON = 1e-10


@dataclass(frozen=True)
class LikelihoodParams:
    average_window: int = 10
    history_window: int = 2000
    learning_period: int = 300


@dataclass(frozen=True)
class LikelihoodState:
    """Last raw scores (for the short average) and the tail of running sums of the averages."""

    raws: np.ndarray
    sums: np.ndarray
    seen: int = 0

    @classmethod
    def empty(cls) -> LikelihoodState:
        return cls(np.empty((0, 1)), np.zeros((1, 2)), 0)


def upper_tail(z: np.ndarray) -> np.ndarray:
    """P(Z > z) for a standard normal, via the Numerical Recipes erfc (relative error < 1.2e-7)."""
    x = np.abs(z) / np.sqrt(2.0)
    t = 1.0 / (1.0 + 0.5 * x)
    poly = -0.82215223 + t * 0.17087277
    for coefficient in (1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418):
        poly = coefficient + t * poly
    poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * poly))
    erfc = t * np.exp(-x * x + poly)
    return np.where(z >= 0, 0.5 * erfc, 1.0 - 0.5 * erfc)


def log_likelihood_score(tail: np.ndarray) -> np.ndarray:
    """Map a tail probability to [0, 1]: 0.5 at 1e-5, 1.0 at 1e-10 (NAB's HTM convention)."""
    return np.log(tail + LOG_EPSILON) / np.log(LOG_EPSILON)


def likelihood(
    params: LikelihoodParams, state: LikelihoodState, raw: np.ndarray
) -> tuple[np.ndarray, LikelihoodState]:
    """Scores in [0, 1] for new raw scores, 0 during the learning period."""
    averages = window_mean(inclusive_windows(state.raws, raw[:, None], params.average_window))[:, 0]
    moments = np.stack((averages, averages * averages), axis=1)
    sums = np.concatenate((state.sums, carried_cumsum(state.sums[-1], moments)))
    previous = len(state.sums) - 1 + np.arange(len(raw))
    oldest = np.maximum(previous - params.history_window, 0)
    seen = state.seen + np.arange(len(raw))
    count = np.minimum(seen, params.history_window).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        window_sums = sums[previous] - sums[oldest]
        mean = np.maximum(window_sums[:, 0] / count, MEAN_FLOOR)
        variance = np.maximum(window_sums[:, 1] / count - mean * mean, VARIANCE_FLOOR)
        scores = log_likelihood_score(upper_tail((averages - mean) / np.sqrt(variance)))
    scores = np.where(seen >= params.learning_period, scores, 0.0)
    raws = np.concatenate((state.raws, raw[:, None]))
    next_state = LikelihoodState(
        raws[len(raws) - min(len(raws), params.average_window - 1) :],
        sums[-(params.history_window + 1) :],
        state.seen + len(raw),
    )
    return scores, next_state
