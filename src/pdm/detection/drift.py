"""Level shift, stuck signal and impulse: each column's recent rows against the hour before them.

Range novelty fires once, on the first row that leaves the recent range; a fault that
moves a level and stays there (imbalance, slow wear) or freezes a sensor (stuck) then
looks normal again a few rows later. This component scores, for every row, how far the
median of the last `recent` rows sits from the median of the `history` rows before them,
in robust units of that history (MAD, floored by a share of its range):

- level: 0 below `z_low` robust units, 1 at `z_high` and above, linear between;
- stuck: 1 when the last `recent` values of a column are all equal while that column
  changed from row to row in most of its history;
- severe: the newest value lies beyond the history's range by at least `impulse` times
  that range (a step or a spike no normal row comes near); the scoring core raises on it
  at once, without waiting for hysteresis.

Every row is a fixed-width reduction over the rows before it (selections, no sums), so
the bits are the same however the stream is chunked; the state is the last rows only.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from pdm.detection.rolling import inclusive_windows, window_quantiles
from pdm.features.state import decode_array, encode_array

MAD_TO_SIGMA = 1.4826
SUB_BATCH = 256
"""Rows scored per vectorised step: bounds memory (rows x columns x window) and never the bits."""


@dataclass(frozen=True)
class DriftParams:
    recent: int = 6
    history: int = 360
    z_low: float = 5.0
    z_high: float = 10.0
    range_floor: float = 0.05
    """Robust scale is at least this share of the history's range (quantised signals have MAD 0)."""
    min_history: int = 90
    stuck: bool = True
    changing: float = 0.5
    """Share of history rows that differ from the row before, for a flat stretch to count as stuck."""
    impulse: float = 1.0

    def __post_init__(self) -> None:
        if self.recent < 2 or self.history < 2 or not 0 < self.z_low < self.z_high:
            raise ValueError("recent >= 2, history >= 2 and 0 < z_low < z_high are required")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DriftState:
    tail: np.ndarray
    seen: int = 0

    @classmethod
    def empty(cls, channels: int) -> DriftState:
        return cls(np.empty((0, channels)), 0)

    def to_dict(self) -> dict[str, Any]:
        return {"tail": encode_array(self.tail), "seen": self.seen}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriftState:
        return cls(decode_array(data["tail"]), int(data["seen"]))

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> DriftState:
        return cls.from_dict(json.loads(raw))


@dataclass(frozen=True)
class DriftScores:
    level: np.ndarray
    """(rows, columns) level-shift score in [0, 1]."""
    stuck: np.ndarray
    """(rows, columns) 1.0 where the column is frozen."""
    severe: np.ndarray
    """(rows,) True where some column jumped far beyond the history's range."""

    @property
    def contributions(self) -> np.ndarray:
        return np.maximum(self.level, self.stuck)


def _window_scores(params: DriftParams, windows: np.ndarray) -> tuple[np.ndarray, ...]:
    """Scores of rows whose (columns, history + recent) windows are given, C-contiguous."""
    history = np.ascontiguousarray(windows[..., : params.history])
    recent = np.ascontiguousarray(windows[..., params.history :])
    newest = windows[..., -1]
    (centre,) = window_quantiles(history, (0.5,))
    (spread,) = window_quantiles(np.abs(history - centre[..., None]), (0.5,))
    (level,) = window_quantiles(recent, (0.5,))
    with np.errstate(invalid="ignore", all="ignore"):
        high, low = np.fmax.reduce(history, axis=-1), np.fmin.reduce(history, axis=-1)
        span = high - low
        tiny = 1e-9 * (1 + np.abs(centre))
        scale = np.fmax(np.fmax(MAD_TO_SIGMA * spread, params.range_floor * span), tiny)
        z = np.abs(level - centre) / scale
        shift = np.clip((z - params.z_low) / (params.z_high - params.z_low), 0.0, 1.0)
        changed = (np.diff(history, axis=-1) != 0).sum(axis=-1) / (params.history - 1)
        flat = np.fmax.reduce(recent, axis=-1) == np.fmin.reduce(recent, axis=-1)
        flat &= ~np.isnan(recent).any(-1)
        stuck = (flat & (changed >= params.changing) & params.stuck).astype(np.float64)
        excess = np.fmax(newest - high, low - newest)
        severe = (excess >= params.impulse * np.fmax(span, tiny)) & (span > 0)
    enough = (~np.isnan(history)).sum(axis=-1) >= min(params.min_history, params.history)
    return (np.where(enough, np.nan_to_num(shift), 0.0), np.where(enough, stuck, 0.0),
            (enough & severe).any(axis=-1))


def score(params: DriftParams, state: DriftState, x: np.ndarray) -> tuple[DriftScores, DriftState]:
    x = np.asarray(x, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    width = params.history + params.recent
    parts: list[tuple[np.ndarray, ...]] = []
    tail = state.tail
    for start in range(0, len(x), SUB_BATCH):
        new = x[start : start + SUB_BATCH]
        parts.append(_window_scores(params, inclusive_windows(tail, new, width)))
        tail = np.concatenate((tail, new))[-(width - 1) :]
    if parts:
        level, stuck, severe = (np.concatenate(p) for p in zip(*parts, strict=True))
    else:
        level = stuck = np.zeros((0, x.shape[1]))
        severe = np.zeros(0, dtype=bool)
    warm = (state.seen + np.arange(len(x)) >= params.min_history)
    scores = DriftScores(level * warm[:, None], stuck * warm[:, None], severe & warm)
    return scores, DriftState(np.ascontiguousarray(tail), state.seen + len(x))
