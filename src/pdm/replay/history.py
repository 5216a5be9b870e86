"""Archived readings as columns: latest revision per reading, flags applied, per-asset event-time order."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

FLAG_LATE = 1
FLAG_BACKFILL = 2


@dataclass(frozen=True)
class FlagPolicy:
    """Which archived readings a replay keeps.

    Late readings (flag bit 0) are left out by default: the stream's feature path skipped
    them, as they came after newer ones. Backfilled readings (bit 1) are kept: backfill is
    history that must be computed exactly as live data would have been.
    """

    include_late: bool = False
    include_backfill: bool = True

    def keep(self, flags: np.ndarray, revision: np.ndarray | None = None) -> np.ndarray:
        """A correction (revision > 0) is kept though flagged late: it comes after newer
        readings by nature, and replaying corrected history is what it was sent for."""
        drop = 0 if self.include_late else FLAG_LATE
        drop |= 0 if self.include_backfill else FLAG_BACKFILL
        flags = np.asarray(flags)
        if revision is not None and not self.include_late:
            flags = np.where(np.asarray(revision) > 0, flags & ~FLAG_LATE, flags)
        return (flags & drop) == 0


DEFAULT_FLAGS = FlagPolicy()


@dataclass(frozen=True)
class AssetHistory:
    """One asset's readings in event-time order, one per event time."""

    asset_id: str
    ts_ms: np.ndarray  # int64 (rows,), strictly increasing
    values: np.ndarray  # float64 (rows, channels), NaN where a reading had no value
    superseded: int = 0
    """Rows replaced by a later revision of the same reading."""
    skipped: int = 0
    """Rows left out by the flag policy."""

    def __len__(self) -> int:
        return len(self.ts_ms)


@dataclass
class History:
    """Many assets' histories, in the order they were asked for."""

    channels: tuple[str, ...]
    assets: list[AssetHistory] = field(default_factory=list)

    def __len__(self) -> int:
        return sum(len(a) for a in self.assets)

    def __iter__(self) -> Iterator[AssetHistory]:
        return iter(self.assets)

    @property
    def superseded(self) -> int:
        return sum(a.superseded for a in self.assets)


def latest_revisions(
    asset_id: str, ts_ms: np.ndarray, revision: np.ndarray, flags: np.ndarray, values: np.ndarray,
    policy: FlagPolicy = DEFAULT_FLAGS, *, presorted: bool = False,
) -> AssetHistory:
    """One reading per event time: the highest revision, else the first one read.

    A correction re-sends the same asset and time with a higher revision; both stay in the
    archive and the replay takes the correction. `presorted` rows already come by time,
    highest revision first (the archive query orders them so); otherwise a stable sort puts
    them so, and among equal revisions the first row read wins, as in the stream.
    """
    keep = policy.keep(flags, revision)
    skipped = int(len(keep) - keep.sum())
    if skipped:
        ts_ms, revision, values = ts_ms[keep], revision[keep], values[keep]
    if not presorted and not _strictly_increasing(ts_ms):
        order = np.lexsort((-np.asarray(revision, np.int64), ts_ms))
        ts_ms, values = ts_ms[order], values[order]
    first = np.ones(len(ts_ms), dtype=bool)
    first[1:] = ts_ms[1:] != ts_ms[:-1]
    superseded = int(len(first) - first.sum())
    if superseded:
        ts_ms, values = ts_ms[first], values[first]
    return AssetHistory(asset_id, ts_ms, values, superseded, skipped)


def _strictly_increasing(ts: np.ndarray) -> bool:
    return len(ts) < 2 or bool((ts[1:] > ts[:-1]).all())


def columns_of(channels: Sequence[str], names: Sequence[str], vals: Sequence[float]) -> list[float]:
    """One reading's values in `channels` order, NaN for a channel it lacks (slow path)."""
    given = dict(zip(names, vals, strict=True))
    nan = float("nan")
    return [nan if given.get(c) is None else float(given[c]) for c in channels]  # type: ignore[arg-type]
