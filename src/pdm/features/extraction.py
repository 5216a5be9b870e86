"""Feature extraction for one asset or a micro-batch of many: the code stream and replay share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pdm.features.feature_set import FeatureSet
from pdm.features.state import AssetWindowState
from pdm.features.statistics import STATISTICS, WindowValues
from pdm.features.windows import NANOS_PER_SECOND, WindowPlan, gather, matrix_width, plan_windows


@dataclass(frozen=True)
class FeatureRows:
    """Feature rows of one batch; `feature_set` is the tag of the definition that made them."""

    feature_set: str
    names: tuple[str, ...]
    asset_ids: np.ndarray
    ts: np.ndarray
    values: np.ndarray
    dropped_late: int = 0

    def __len__(self) -> int:
        return len(self.ts)


def values_matrix(readings: Sequence[Mapping[str, float]], channels: Sequence[str]) -> np.ndarray:
    """Readings' channel dicts as a (readings, channels) array; an absent channel is NaN."""
    nan = float("nan")
    return np.array([[r.get(c, nan) for c in channels] for r in readings], dtype=np.float64)


def extract(
    feature_set: FeatureSet,
    state: AssetWindowState | None,
    ts_ns: np.ndarray,
    values: np.ndarray,
    asset_id: str = "",
) -> tuple[FeatureRows, AssetWindowState]:
    """Feature rows for one asset's readings in arrival order, and the state to keep.

    A reading older than one already accepted is dropped (and counted): both the stream and
    a replay apply that rule to the same arrival order, so both keep the same readings.
    """
    state = state or AssetWindowState.empty(feature_set.tag, len(feature_set.channels))
    ts_ns, values = np.asarray(ts_ns, np.int64), np.asarray(values, np.float64).reshape(len(ts_ns), -1)
    running_max = np.maximum.accumulate(np.concatenate(([state.last_ts], ts_ns)))[:-1]
    keep = ts_ns >= running_max
    history_ts = np.concatenate((state.ts, ts_ns[keep]))
    history = np.concatenate((state.values, values[keep]))
    window = feature_set.window
    open_bucket = state.last_ts // window.size if state.seen else -1
    plan = plan_windows(window, history_ts, len(state.ts), state.seen, open_bucket)
    rows = FeatureRows(
        feature_set.tag,
        feature_set.feature_names,
        np.full(len(plan.ends), asset_id, dtype=object),
        plan.row_ts,
        _feature_table(feature_set, history_ts, history, plan),
        int((~keep).sum()),
    )
    return rows, _next_state(state, history_ts, history, int(keep.sum()), window.capacity)


def _feature_table(
    feature_set: FeatureSet, ts: np.ndarray, history: np.ndarray, plan: WindowPlan
) -> np.ndarray:
    """(rows, channels x statistics), channel-major as `feature_names`.

    The matrices are only as wide as this batch's longest window needs (`matrix_width`):
    the sums, hence the bits, are those of `capacity`-wide matrices.
    """
    capacity = feature_set.window.capacity
    longest = int((plan.ends - plan.starts).max()) + 1 if len(plan.ends) else 1
    matrices, slots = gather(history, plan, matrix_width(capacity, longest))
    frame = WindowValues(matrices, lambda: _seconds_before_end(ts, slots, plan.ends), capacity)
    table = np.stack([STATISTICS[s](frame) for s in feature_set.statistics], axis=-1)
    return table.transpose(1, 0, 2).reshape(len(plan.ends), len(feature_set.feature_names))


def _seconds_before_end(ts: np.ndarray, slots: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Event time of each window slot relative to the window's last reading, NaN outside it.

    Integer nanosecond differences first: exact, and small enough for float64 seconds.
    """
    inside = slots >= 0
    delta = (ts[np.where(inside, slots, 0)] - ts[ends][:, None]).astype(np.float64) / NANOS_PER_SECOND
    return np.where(inside, delta, np.nan)


def _next_state(
    state: AssetWindowState, ts: np.ndarray, values: np.ndarray, accepted: int, capacity: int
) -> AssetWindowState:
    """Keep `capacity` readings: enough for any window ending at or after the next reading."""
    keep_from = max(0, len(ts) - capacity)
    return AssetWindowState(
        state.feature_set_tag,
        ts[keep_from:].copy(),
        values[keep_from:].copy(),
        state.seen + accepted,
        int(ts[-1]) if len(ts) else state.last_ts,
    )


def extract_many(
    feature_set: FeatureSet,
    states: Mapping[str, AssetWindowState],
    asset_ids: Sequence[str],
    ts_ns: np.ndarray,
    values: np.ndarray,
) -> tuple[FeatureRows, dict[str, AssetWindowState]]:
    """A micro-batch of many assets' readings: one vectorised pass per asset, never per reading.

    Returns the rows (grouped by asset, each asset's rows in order) and the new state of
    every asset present in the batch; assets absent from the batch keep their state.
    """
    ids = np.asarray(asset_ids, dtype=object)
    ts_ns, values = np.asarray(ts_ns, np.int64), np.asarray(values, np.float64)
    parts: list[FeatureRows] = []
    new_states: dict[str, AssetWindowState] = {}
    for asset in dict.fromkeys(ids.tolist()):
        mine = ids == asset
        rows, new_states[asset] = extract(feature_set, states.get(asset), ts_ns[mine], values[mine], asset)
        parts.append(rows)
    return _concatenate(feature_set, parts), new_states


def _concatenate(feature_set: FeatureSet, parts: list[FeatureRows]) -> FeatureRows:
    width = len(feature_set.feature_names)
    return FeatureRows(
        feature_set.tag,
        feature_set.feature_names,
        np.concatenate([p.asset_ids for p in parts] or [np.empty(0, object)]),
        np.concatenate([p.ts for p in parts] or [np.empty(0, np.int64)]),
        np.concatenate([p.values for p in parts] or [np.empty((0, width))]),
        sum(p.dropped_late for p in parts),
    )
