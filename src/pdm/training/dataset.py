"""Feature tables from replayed history, computed by the stream's own feature code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from pdm.features import FeatureSet, extract
from pdm.features.state import NO_READING, AssetWindowState
from pdm.scoring import accept_mask

NANOS_PER_MS = 1_000_000
CHUNK = 8_192
"""Readings per `extract` call: window matrices of ~800 rows stay in cache (measured best of 2,048-32,768)."""


@dataclass(frozen=True)
class FeatureTable:
    """Feature rows of many assets: grouped by asset, each asset's rows in event-time order.

    `ts_ms` is each window's end, as on `pdm.features.v1`; `feature_set` is the tag that
    names the definition, and is written into every file a replay produces.
    """

    feature_set: str
    names: tuple[str, ...]
    asset_ids: np.ndarray  # object (rows,)
    ts_ms: np.ndarray  # int64 (rows,)
    values: np.ndarray  # float64 (rows, features)
    readings: int = 0

    def __len__(self) -> int:
        return len(self.ts_ms)

    def select(self, mask: np.ndarray) -> FeatureTable:
        return FeatureTable(self.feature_set, self.names, self.asset_ids[mask], self.ts_ms[mask],
                            self.values[mask], self.readings)

    def assets(self) -> list[str]:
        return list(dict.fromkeys(self.asset_ids.tolist()))


class FeatureBuilder:
    """Per-asset feature state carried across slices of history, so a replay can read the
    archive a slice at a time: `extract` gives the same bits whatever the chunking."""

    def __init__(self, feature_set: FeatureSet) -> None:
        self.feature_set = feature_set
        self._states: dict[str, tuple[AssetWindowState, int]] = {}
        self._parts: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
        self.readings = 0

    def add(self, asset_id: str, ts_ms: np.ndarray, values: np.ndarray, chunk: int = CHUNK) -> None:
        """Readings pass the scorer's acceptance rule first (newer than every earlier one), then
        `extract`, exactly as in the stream; `chunk` only bounds memory."""
        fs = self.feature_set
        state, last_ms = self._states.get(asset_id) or (AssetWindowState.empty(fs.tag, len(fs.channels)),
                                                        int(NO_READING))
        for start in range(0, len(ts_ms), chunk):
            ts, vals = ts_ms[start:start + chunk], values[start:start + chunk]
            keep = accept_mask(last_ms, ts)
            if keep.any():
                last_ms = max(last_ms, int(ts[keep].max()))
            rows, state = extract(fs, state, ts[keep] * NANOS_PER_MS, vals[keep], asset_id)
            if len(rows):
                ends, values_out = self._parts.setdefault(asset_id, ([], []))
                ends.append(rows.ts // NANOS_PER_MS)
                values_out.append(rows.values)
        self._states[asset_id] = (state, last_ms)
        self.readings += len(ts_ms)

    def table(self) -> FeatureTable:
        """Rows grouped by asset (first-seen order), each asset's rows in event-time order."""
        ids, ends, rows = [], [], []
        for asset_id, (asset_ends, asset_rows) in self._parts.items():
            ends += asset_ends
            rows += asset_rows
            ids.append(np.full(sum(len(e) for e in asset_ends), asset_id, dtype=object))
        return concatenate(self.feature_set, ids, ends, rows, self.readings)


def feature_table(
    feature_set: FeatureSet, histories: Iterable[tuple[str, np.ndarray, np.ndarray]]
) -> FeatureTable:
    """`histories` yields (asset, ts_ms, values) with columns in the feature set's channel order."""
    builder = FeatureBuilder(feature_set)
    for asset_id, ts_ms, values in histories:
        builder.add(asset_id, ts_ms, values)
    return builder.table()


def concatenate(feature_set: FeatureSet, ids: list[np.ndarray], ends: list[np.ndarray],
                rows: list[np.ndarray], readings: int) -> FeatureTable:
    width = len(feature_set.feature_names)
    return FeatureTable(
        feature_set.tag, feature_set.feature_names,
        np.concatenate(ids) if ids else np.empty(0, object),
        np.concatenate(ends) if ends else np.empty(0, np.int64),
        np.concatenate(rows) if rows else np.empty((0, width)),
        readings,
    )
