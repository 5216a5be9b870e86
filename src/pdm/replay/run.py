"""Replay: archived history slice by slice into the stream's feature and scoring code."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np

from pdm.features import FeatureSet
from pdm.replay.archive import ArchiveRange, Progress, assemble, read_blocks
from pdm.replay.history import DEFAULT_FLAGS, FlagPolicy, History
from pdm.scoring import ScoringModel, score_history
from pdm.training.dataset import FeatureBuilder, FeatureTable

SLICE = timedelta(hours=6)


@dataclass(frozen=True)
class ScoreTable:
    """The scores a model would have produced: one row per window, onsets marked."""

    model_version: str
    feature_set: str
    asset_ids: np.ndarray
    ts_ms: np.ndarray
    score: np.ndarray
    threshold: np.ndarray
    is_anomalous: np.ndarray
    onset: np.ndarray

    def __len__(self) -> int:
        return len(self.ts_ms)


def slices(span: ArchiveRange, size: timedelta = SLICE) -> list[ArchiveRange]:
    out, start = [], span.start
    while start < span.end:
        end = min(start + size, span.end)
        out.append(replace(span, start=start, end=end))
        start = end
    return out


def histories(conninfo: str, schema: str, span: ArchiveRange, channels: Sequence[str],
              policy: FlagPolicy = DEFAULT_FLAGS, progress: Progress | None = None,
              size: timedelta = SLICE) -> Iterator[History]:
    """Event-time slices in order; the next slice is read while the caller computes on this one
    (the server aggregates and the client runs numpy at the same time, on two cores)."""
    parts = slices(span, size)
    with ThreadPoolExecutor(1, thread_name_prefix="replay-read") as pool:
        ahead = pool.submit(read_blocks, conninfo, schema, parts[0], progress) if parts else None
        for i in range(len(parts)):
            assert ahead is not None
            blocks = ahead.result()
            if i + 1 < len(parts):
                ahead = pool.submit(read_blocks, conninfo, schema, parts[i + 1], progress)
            yield assemble(blocks, channels, policy, span.assets)


def replay_features(feature_set: FeatureSet, source: Iterator[History]) -> tuple[FeatureTable, int]:
    """The feature table, and how many superseded revisions the replay left out."""
    builder, superseded = FeatureBuilder(feature_set), 0
    for history in source:
        superseded += history.superseded
        for asset in history:
            builder.add(asset.asset_id, asset.ts_ms, asset.values)
    return builder.table(), superseded


def replay_scores(model_for: Callable[[str], ScoringModel], source: Iterator[History]) -> ScoreTable:
    """Whole histories per asset through `score_history`, the batch path that equals the stream."""
    per_asset: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    for history in source:
        for asset in history:
            ts, vals = per_asset.setdefault(asset.asset_id, ([], []))
            ts.append(asset.ts_ms)
            vals.append(asset.values)
    columns: dict[str, list[np.ndarray]] = {k: [] for k in ("ids", "ts", "score", "thr", "anom", "onset")}
    version, tag = "", ""
    for asset_id, (ts, vals) in per_asset.items():
        results, _ = score_history(model_for, asset_id, np.concatenate(ts), np.concatenate(vals))
        for r in results:
            version, tag = r.model.version, r.features.feature_set
            onset = np.zeros(len(r.row_ts_ms), bool)
            onset[r.raised] = True
            for key, part in zip(columns, (np.full(len(onset), asset_id, object), r.row_ts_ms, r.scores.raw,
                                           np.full(len(onset), r.scores.threshold), r.anomalous, onset),
                                 strict=True):
                columns[key].append(part)
    cat = {k: np.concatenate(v) if v else np.empty(0) for k, v in columns.items()}
    return ScoreTable(version, tag, cat["ids"].astype(object), cat["ts"].astype(np.int64), cat["score"],
                      cat["thr"], cat["anom"].astype(bool), cat["onset"].astype(bool))
