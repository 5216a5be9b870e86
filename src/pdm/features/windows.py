"""Window specifications: which readings each feature row summarises, and when a row is emitted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

NANOS_PER_SECOND = 1_000_000_000
PAIRWISE_BLOCK = 128
"""numpy sums up to this many floats in one 8-lane block (larger rows are split in halves)."""


@dataclass(frozen=True)
class WindowSpec:
    """A count- or time-based window, sliding (a row per reading) or tumbling (a row per bucket).

    `capacity` bounds how many readings one window may hold. It is what makes every row a
    reduction over a fixed-width matrix: the same width in the stream and in a replay, so
    float results cannot depend on how readings were batched.
    """

    kind: Literal["count", "time"]
    size: int
    tumbling: bool = False
    capacity: int = 0

    def __post_init__(self) -> None:
        if self.size <= 0:
            raise ValueError(f"window size must be positive, got {self.size}")
        if self.kind == "count":
            object.__setattr__(self, "capacity", self.size)
        elif self.capacity <= 0:
            raise ValueError("a time window needs a positive capacity (max readings it holds)")

    @property
    def label(self) -> str:
        mode = "tumbling" if self.tumbling else "sliding"
        if self.kind == "count":
            return f"{mode}_{self.size}r"
        return f"{mode}_{self.size // NANOS_PER_SECOND}s"


def count_window(readings: int, *, tumbling: bool = False) -> WindowSpec:
    return WindowSpec("count", readings, tumbling)


def time_window(seconds: float, *, capacity: int, tumbling: bool = False) -> WindowSpec:
    return WindowSpec("time", round(seconds * NANOS_PER_SECOND), tumbling, capacity)


@dataclass(frozen=True)
class WindowPlan:
    """Where each emitted row ends and starts, as indices into history + batch."""

    ends: np.ndarray
    starts: np.ndarray
    row_ts: np.ndarray


def plan_windows(
    spec: WindowSpec, ts: np.ndarray, first_new: int, seen_before: int, open_bucket: int
) -> WindowPlan:
    """Decide which rows to emit for readings `ts[first_new:]`, given the retained history before them.

    Count windows emit once full; tumbling count windows align to the asset's reading count
    (`seen_before`), so chunking cannot shift them. Time tumbling buckets close when the
    first reading of a later bucket arrives (event time, never the wall clock).
    """
    positions = np.arange(first_new, len(ts))
    if spec.kind == "count":
        return _plan_count(spec, ts, positions, first_new, seen_before)
    if spec.tumbling:
        return _plan_time_tumbling(spec, ts, first_new, open_bucket)
    starts = np.searchsorted(ts, ts[positions] - spec.size, side="right")
    starts = np.maximum(starts, positions - spec.capacity + 1)
    return WindowPlan(positions, starts, ts[positions])


def _plan_count(
    spec: WindowSpec, ts: np.ndarray, positions: np.ndarray, first_new: int, seen_before: int
) -> WindowPlan:
    ordinal = seen_before + (positions - first_new) + 1
    keep = ordinal >= spec.size
    if spec.tumbling:
        keep &= ordinal % spec.size == 0
    ends = positions[keep]
    return WindowPlan(ends, ends - spec.size + 1, ts[ends])


def _plan_time_tumbling(spec: WindowSpec, ts: np.ndarray, first_new: int, open_bucket: int) -> WindowPlan:
    buckets = np.floor_divide(ts, spec.size)
    previous = np.concatenate(([open_bucket], buckets[first_new:]))[:-1]
    changed = (buckets[first_new:] != previous) & (previous >= 0)
    ends = np.flatnonzero(changed) + first_new - 1
    closed = buckets[ends]
    starts = np.searchsorted(buckets, closed, side="left")
    starts = np.maximum(starts, ends - spec.capacity + 1)
    return WindowPlan(ends, starts, (closed + 1) * spec.size)


def matrix_width(capacity: int, longest: int) -> int:
    """The narrowest matrix width whose sums carry the bits of `capacity`-wide ones.

    numpy sums a row of n <= 128 floats in 8 interleaved lanes (slot i into lane i % 8, up to
    the last multiple of 8; the n % 8 rest one by one afterwards). Right-aligned windows keep
    every reading in the same lane, or the same rest, when whole groups of 8 leading empty
    (zero) slots are dropped, so a width congruent to `capacity` mod 8, at least 8 and at
    least the longest window, gives the same sums: whatever the batch, the result is the
    full-width one. `tests/unit/features` holds this against full-width matrices.
    """
    if capacity < 8 or capacity > PAIRWISE_BLOCK:
        return capacity
    return capacity - 8 * ((capacity - max(longest, 8)) // 8)


def gather(history: np.ndarray, plan: WindowPlan, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Window matrices of shape (channels, rows, width), right-aligned on each window end.

    Slots outside a window are NaN, as are missing readings; the reduced axis is the
    contiguous last one. Also returns each slot's index into `history`, -1 outside the window.
    """
    slots = plan.ends[:, None] + np.arange(1 - width, 1)[None, :]
    slots = np.where(slots >= plan.starts[:, None], slots, -1)
    padded = np.concatenate((history.T, np.full((history.shape[1], 1), np.nan)), axis=1)
    return np.take(padded, slots, axis=1), slots
