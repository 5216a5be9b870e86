"""Causal rolling primitives whose results do not depend on how a stream is chunked.

Each output is a fixed-width reduction over the values before it (or a sequential
cumulative sum carried in the state), so feeding a history in one call or one reading at
a time yields the same float64 bits.
"""

from __future__ import annotations

import numpy as np


def as_rows(x: np.ndarray) -> np.ndarray:
    """Readings as float64 rows (one column per channel); a 1-D series is one channel."""
    x = np.asarray(x, dtype=np.float64)
    return x[:, None] if x.ndim == 1 else x


def trailing_windows(tail: np.ndarray, new: np.ndarray, width: int) -> np.ndarray:
    """For each new value, the `width` values before it (not itself), NaN-padded at the start.

    Shape (new, channels, width), C-contiguous with the window on the last axis.
    """
    pad = np.full((max(0, width - len(tail)), new.shape[1]), np.nan)
    history = np.concatenate((pad, tail[-width:] if width else tail[:0], new))
    index = np.arange(len(new))[:, None] + np.arange(width)[None, :]
    return np.ascontiguousarray(history[index].transpose(0, 2, 1))


def inclusive_windows(tail: np.ndarray, new: np.ndarray, width: int) -> np.ndarray:
    """For each new value, the last `width` values up to and including it."""
    pad = np.full((max(0, width - 1 - len(tail)), new.shape[1]), np.nan)
    recent = tail[max(0, len(tail) - (width - 1)) :] if width > 1 else tail[:0]
    history = np.concatenate((pad, recent, new))
    index = np.arange(len(new))[:, None] + np.arange(width)[None, :]
    return np.ascontiguousarray(history[index].transpose(0, 2, 1))


def window_quantiles(windows: np.ndarray, fractions: tuple[float, ...]) -> list[np.ndarray]:
    """Quantiles (lower-median convention at each fraction) of each window, ignoring NaN.

    Full windows use one partition; partial ones (warm-up) a sort. Which path a row takes
    depends only on how many values it holds, never on the batch.
    """
    count = (~np.isnan(windows)).sum(axis=-1)
    width = windows.shape[-1]
    out = [np.full(count.shape, np.nan) for _ in fractions]
    full = count == width
    if full.any():
        ranks = [int(f * (width - 1)) for f in fractions]
        parted = np.partition(windows[full], sorted(set(ranks)), axis=-1)
        for q, rank in zip(out, ranks, strict=True):
            q[full] = parted[..., rank]
    partial = ~full & (count > 0)
    if partial.any():
        ordered = np.sort(windows[partial], axis=-1)
        n = count[partial]
        for q, fraction in zip(out, fractions, strict=True):
            rank = (fraction * (n - 1)).astype(np.int64)
            q[partial] = np.take_along_axis(ordered, rank[:, None], axis=-1)[:, 0]
    return out


def window_mean(windows: np.ndarray) -> np.ndarray:
    valid = ~np.isnan(windows)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(valid, windows, 0.0).sum(axis=-1) / valid.sum(axis=-1)


def carried_cumsum(total: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Cumulative sums continuing from `total`: sequential adds, identical however chunked."""
    return np.cumsum(np.concatenate((total[None, :], values)), axis=0)[1:]


def lagged(history: np.ndarray, new: np.ndarray, lag: int) -> np.ndarray:
    """For each new row, the row `lag` steps earlier (from history, then new), NaN if none."""
    stacked = np.concatenate((np.full((lag, new.shape[1]), np.nan), history, new))
    return stacked[len(history) : len(history) + len(new)]
