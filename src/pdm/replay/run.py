"""Replay: archived history slice by slice into the stream's feature and scoring code."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np

from pdm.features import FeatureSet
from pdm.replay.archive import ArchiveRange, Progress, assemble, read_blocks
from pdm.replay.blocks import Block
from pdm.replay.history import DEFAULT_FLAGS, FlagPolicy, History
from pdm.scoring import ScoringModel, score_history
from pdm.training.dataset import FeatureBuilder, FeatureTable

SLICE = timedelta(hours=1)
MIN_SLICE, MAX_SLICE = timedelta(minutes=1), timedelta(days=31)
TARGET_ROWS = 200_000
READ_AHEAD = 2


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


def next_size(previous: ArchiveRange, rows: int) -> timedelta:
    """Aim each slice at TARGET_ROWS, from the density of the one before: an empty month costs
    a few queries, a dense hour is split, and memory stays bounded either way."""
    width = previous.end - previous.start
    wanted = width * (TARGET_ROWS / rows) if rows else width * 8
    return min(max(wanted, MIN_SLICE), MAX_SLICE)


def histories(conninfo: str, schema: str, span: ArchiveRange, channels: Sequence[str],
              policy: FlagPolicy = DEFAULT_FLAGS, progress: Progress | None = None,
              size: timedelta = SLICE, ahead: int = READ_AHEAD) -> Iterator[History]:
    """Event-time slices in order; the next `ahead` slices are read (one server backend, one
    core each) while the caller computes on this one, so the server's aggregation, the
    bottleneck once features got cheap, runs on both cores."""
    if span.end <= span.start:
        return
    with ThreadPoolExecutor(ahead, thread_name_prefix="replay-read") as pool:
        part = replace(span, end=min(span.start + size, span.end))
        pending: deque[tuple[ArchiveRange, Future[list[Block]]]] = deque()
        pending.append((part, pool.submit(read_blocks, conninfo, schema, part, progress)))
        while pending:
            done, future = pending.popleft()
            blocks = future.result()
            size = next_size(done, sum(len(b.ts_ms) for b in blocks))  # the newest density seen
            while len(pending) < ahead and part.end < span.end:
                part = replace(span, start=part.end, end=min(part.end + size, span.end))
                pending.append((part, pool.submit(read_blocks, conninfo, schema, part, progress)))
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
