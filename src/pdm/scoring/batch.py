"""Micro-batches of many assets: group decoded messages per asset, score each asset once.

The stream worker (`score_assets`, many assets at once) and the batch path over the archive
(`score_history`, `score_asset`: one asset) run the same steps, so for the same readings in the
same order they produce the same bits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from pdm.contracts import BatchArrays, FrameArrays, FrameV1, ReadingBatchV1, ReadingV1
from pdm.scoring.model import ScoringModel
from pdm.scoring.pipeline import AssetResult, score_asset, score_assets
from pdm.scoring.state import AssetScoringState

ModelFor = Callable[[str], ScoringModel]


@dataclass
class _AssetParts:
    ts: list[np.ndarray] = field(default_factory=list)
    values: list[np.ndarray] = field(default_factory=list)
    single_ts: list[int] = field(default_factory=list)
    single_rows: list[list[float]] = field(default_factory=list)

    def flush_singles(self) -> None:
        """Single readings are collected as lists and turned into arrays once, in order."""
        if self.single_ts:
            self.ts.append(np.array(self.single_ts, dtype=np.int64))
            self.values.append(np.array(self.single_rows, dtype=np.float64))
            self.single_ts, self.single_rows = [], []


class MicroBatch:
    """Readings of one micro-batch, per asset, in arrival order, as (ts_ms, values) arrays."""

    def __init__(self, channels: Sequence[str]) -> None:
        self.channels = tuple(channels)
        self._index = {name: i for i, name in enumerate(self.channels)}
        self._columns: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = {}
        self._parts: dict[str, _AssetParts] = {}
        self.frames: list[FrameV1 | FrameArrays] = []
        """Waveforms, in arrival order: scored by `pdm.scoring.frame_batch`."""

    def add(self, message: ReadingV1 | ReadingBatchV1 | FrameV1 | BatchArrays | FrameArrays) -> None:
        if isinstance(message, BatchArrays):
            self._add_batch(message)
        elif isinstance(message, ReadingBatchV1):
            self._add_batch(message.arrays)
        elif isinstance(message, ReadingV1):
            parts = self._parts.setdefault(message.asset_id, _AssetParts())
            nan, given = float("nan"), message.values
            parts.single_ts.append(message.ts_ms)
            parts.single_rows.append([given.get(name, nan) for name in self.channels])
        else:
            self.frames.append(message)

    def _add_batch(self, arrays: BatchArrays) -> None:
        source, target = self._mapping(arrays.channels)
        values = np.full((len(arrays.ts_ms), len(self.channels)), np.nan)
        values[:, target] = arrays.values[:, source]
        parts = self._parts.setdefault(arrays.asset_id, _AssetParts())
        parts.flush_singles()
        parts.ts.append(arrays.ts_ms)
        parts.values.append(values)

    def _mapping(self, channels: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        if channels not in self._columns:
            pairs = [(i, self._index[c]) for i, c in enumerate(channels) if c in self._index]
            source = np.array([p[0] for p in pairs], dtype=np.int64)
            self._columns[channels] = source, np.array([p[1] for p in pairs], dtype=np.int64)
        return self._columns[channels]

    def per_asset(self) -> Iterable[tuple[str, np.ndarray, np.ndarray]]:
        for asset_id, parts in self._parts.items():
            parts.flush_singles()
            yield asset_id, np.concatenate(parts.ts), np.concatenate(parts.values)

    def asset_ids(self) -> list[str]:
        return list(self._parts)

    def __len__(self) -> int:
        return len(self._parts)


def score_micro_batch(
    model_for: ModelFor, states: Mapping[str, AssetScoringState | None], batch: MicroBatch
) -> tuple[list[AssetResult], dict[str, AssetScoringState]]:
    """Score every asset of the batch once; returns results and each asset's new state."""
    inputs = []
    for asset_id, ts_ms, values in batch.per_asset():
        model = model_for(asset_id)
        state = states.get(asset_id) or AssetScoringState.empty(model)
        inputs.append((model, state, asset_id, ts_ms, values))
    scored = score_assets(inputs)
    return [result for result, _ in scored], {result.asset_id: state for result, state in scored}


def score_history(
    model_for: ModelFor, asset_id: str, ts_ms: np.ndarray, values: np.ndarray, chunk: int = 100_000
) -> tuple[list[AssetResult], AssetScoringState]:
    """The batch path: one asset's archived history (columns in the model's channel order).

    Replay and retraining call this; `chunk` bounds memory and never changes a bit.
    """
    model = model_for(asset_id)
    state = AssetScoringState.empty(model)
    results = []
    for start in range(0, len(ts_ms), chunk):
        part = slice(start, start + chunk)
        result, state = score_asset(model_for(asset_id), state, asset_id, ts_ms[part], values[part])
        results.append(result)
    return results, state
