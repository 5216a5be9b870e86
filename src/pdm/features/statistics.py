"""Window statistics over fixed-width matrices whose missing slots are NaN.

Every function reduces the last axis of a C-contiguous array whose sums are those of the
window's full capacity (`windows.matrix_width`), so the result for one window never depends
on how many other windows were computed alongside it: that is the whole of the bit-for-bit
guarantee between the stream worker and a replay.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import numpy as np

STATISTICS_REVISION = 1
"""Bump when any formula here changes: it is part of every feature-set tag."""

Statistic = Callable[["WindowValues"], np.ndarray]


class WindowValues:
    """One batch of windows, with the intermediate sums shared by several statistics.

    Each intermediate is computed on first use (the event times only for `slope`), always by
    the same expression, so a feature set pays only for what its statistics read.
    """

    def __init__(self, values: np.ndarray, seconds: Callable[[], np.ndarray], capacity: int) -> None:
        self.values = values
        self._seconds = seconds
        self.capacity = capacity  # the declared width; `values` may drop leading empty slots

    @cached_property
    def seconds(self) -> np.ndarray:
        return self._seconds()

    @cached_property
    def valid(self) -> np.ndarray:
        return ~np.isnan(self.values)

    @cached_property
    def count(self) -> np.ndarray:
        return self.valid.sum(axis=-1)

    @cached_property
    def zeroed(self) -> np.ndarray:
        return np.where(self.valid, self.values, 0.0)

    @cached_property
    def mean(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.zeroed.sum(axis=-1) / self.count

    @cached_property
    def deviation(self) -> np.ndarray:
        return np.where(self.valid, self.values - self.mean[..., None], 0.0)

    @cached_property
    def variance(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return (self.deviation * self.deviation).sum(axis=-1) / self.count

    def central_moment(self, order: int) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return (self.deviation**order).sum(axis=-1) / self.count


def mean(w: WindowValues) -> np.ndarray:
    return w.mean


def std(w: WindowValues) -> np.ndarray:
    """Population standard deviation (ddof=0), two-pass for numerical stability."""
    return np.sqrt(w.variance)


def minimum(w: WindowValues) -> np.ndarray:
    out = np.where(w.valid, w.values, np.inf).min(axis=-1)
    return np.where(w.count > 0, out, np.nan)


def maximum(w: WindowValues) -> np.ndarray:
    out = np.where(w.valid, w.values, -np.inf).max(axis=-1)
    return np.where(w.count > 0, out, np.nan)


def rms(w: WindowValues) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt((w.zeroed * w.zeroed).sum(axis=-1) / w.count)


def peak_to_peak(w: WindowValues) -> np.ndarray:
    return maximum(w) - minimum(w)


def skewness(w: WindowValues) -> np.ndarray:
    """Biased (Fisher-Pearson) skewness; 0 for a constant window rather than NaN."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out = w.central_moment(3) / w.variance**1.5
    return np.where(w.variance > 0, out, np.where(w.count > 0, 0.0, np.nan))


def kurtosis(w: WindowValues) -> np.ndarray:
    """Excess kurtosis (normal = 0); 0 for a constant window rather than NaN."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out = w.central_moment(4) / (w.variance * w.variance) - 3.0
    return np.where(w.variance > 0, out, np.where(w.count > 0, 0.0, np.nan))


def crest_factor(w: WindowValues) -> np.ndarray:
    """Peak absolute value over RMS: how impulsive a vibration signal is."""
    peak = np.where(w.valid, np.abs(w.values), -np.inf).max(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(w.count > 0, peak / rms(w), np.nan)


def slope(w: WindowValues) -> np.ndarray:
    """Least-squares trend in units per second, against the readings' event times."""
    both = w.valid & ~np.isnan(w.seconds)
    n = both.sum(axis=-1)
    t = np.where(both, w.seconds, 0.0)
    x = np.where(both, w.values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        t_dev = np.where(both, t - (t.sum(axis=-1) / n)[..., None], 0.0)
        x_dev = np.where(both, x - (x.sum(axis=-1) / n)[..., None], 0.0)
        out = (t_dev * x_dev).sum(axis=-1) / (t_dev * t_dev).sum(axis=-1)
    return np.where(n >= 2, out, np.nan)


def ewma(w: WindowValues) -> np.ndarray:
    """Exponentially weighted mean with span = window width, truncated at the window.

    Truncation keeps each value a function of a bounded history, so a stream restored from
    its ring buffer computes exactly what a replay computes.
    """
    width = w.capacity
    alpha = 2.0 / (width + 1.0)
    weights = (1.0 - alpha) ** np.arange(width - 1, -1, -1, dtype=np.float64)
    weights = weights[width - w.values.shape[-1] :]
    weighted = np.where(w.valid, weights, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (weighted * w.zeroed).sum(axis=-1) / weighted.sum(axis=-1)


STATISTICS: dict[str, Statistic] = {
    "mean": mean,
    "std": std,
    "min": minimum,
    "max": maximum,
    "rms": rms,
    "p2p": peak_to_peak,
    "skew": skewness,
    "kurtosis": kurtosis,
    "crest": crest_factor,
    "slope": slope,
    "ewma": ewma,
}
