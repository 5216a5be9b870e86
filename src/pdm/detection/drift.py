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
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from pdm.detection.rolling import as_rows, inclusive_windows, window_quantiles
from pdm.features.state import decode_array, encode_array

MAD_TO_SIGMA = 1.4826
STEP_BYTES = 1 << 20
"""Window bytes scored per vectorised step: bounds memory (rows x columns x window) and never the
bits. About 1 MiB stays in the CPU cache (71 rows of 5 columns): 16 series x 120 rows of 5
columns took 200 ms in 64-row steps against 320 ms in 256-row steps (one sweep of 16-256 rows
on the 2-core VM; 32-64 were best)."""


def step_rows(columns: int, params: DriftParams) -> int:
    """Rows of `columns` columns per vectorised step (at least 16)."""
    return max(16, STEP_BYTES // (8 * max(columns, 1) * (params.history + params.recent)))


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
    return score_many(params, [state], [x])[0]


def score_many(
    params: DriftParams, states: Sequence[DriftState], xs: Sequence[np.ndarray]
) -> list[tuple[DriftScores, DriftState]]:
    """`score` of several independent series (assets, channels) with one set of vectorised steps.

    A micro-batch holds a few rows of many series; scored one by one, the fixed cost of each
    call's numpy steps outweighed the rows. Every row is still reduced over its own window
    only, so the bits equal those of `score` on each series alone.
    """
    xs = [as_rows(x) for x in xs]
    width = params.history + params.recent
    pieces: list[tuple[int, np.ndarray, np.ndarray]] = []
    tails = []
    for g, (state, x) in enumerate(zip(states, xs, strict=True)):
        tail = state.tail
        rows = step_rows(x.shape[1], params)
        for start in range(0, len(x), rows):
            new = x[start : start + rows]
            pieces.append((g, tail, new))
            tail = np.concatenate((tail, new))[-(width - 1) :]
        tails.append(np.ascontiguousarray(tail))
    scored = _scores_in_steps(params, pieces, [x.shape[1] for x in xs])
    out = []
    for state, x, tail, (level, stuck, severe) in zip(states, xs, tails, scored, strict=True):
        warm = state.seen + np.arange(len(x)) >= params.min_history
        scores = DriftScores(level * warm[:, None], stuck * warm[:, None], severe & warm)
        out.append((scores, DriftState(tail, state.seen + len(x))))
    return out


def _scores_in_steps(params: DriftParams, pieces: list[tuple[int, np.ndarray, np.ndarray]],
                     columns: list[int]) -> list[tuple[np.ndarray, ...]]:
    """Pieces (series, tail before, new rows), scored in steps of at most `step_rows` rows of one
    width; windows are built per step, so memory stays bounded by the step."""
    width = params.history + params.recent
    parts: list[list[tuple[np.ndarray, ...]]] = [[] for _ in columns]
    step: list[tuple[int, np.ndarray, np.ndarray]] = []

    def flush() -> None:
        windows = [inclusive_windows(tail, new, width) for _, tail, new in step]
        joined = _window_scores(params, windows[0] if len(windows) == 1 else np.concatenate(windows))
        first = 0
        for g, _, new in step:
            parts[g].append(tuple(a[first : first + len(new)] for a in joined))
            first += len(new)
        step.clear()

    rows = 0
    for piece in pieces:
        limit = step_rows(columns[piece[0]], params)
        if step and (rows + len(piece[2]) > limit or columns[piece[0]] != columns[step[0][0]]):
            flush()
            rows = 0
        step.append(piece)
        rows += len(piece[2])
    if step:
        flush()
    return [tuple(np.concatenate(p) for p in zip(*got, strict=True)) if got
            else (np.zeros((0, c)), np.zeros((0, c)), np.zeros(0, dtype=bool))
            for got, c in zip(parts, columns, strict=True)]
