"""Labelled CSV series and their causal replay through a streaming detector."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

DEFAULT_CHUNK = 2048


class ScoredBatch(Protocol):
    @property
    def score(self) -> np.ndarray: ...


class StreamingDetector(Protocol):
    """What evaluation needs of a detector: a fresh state, then scores batch after batch."""

    def start(self, channels: int) -> Any: ...

    def update(self, state: Any, values: np.ndarray) -> tuple[ScoredBatch, Any]: ...


DetectorFactory = Callable[[], StreamingDetector]


@dataclass(frozen=True)
class Series:
    name: str
    ts: np.ndarray
    values: np.ndarray


def read_series(path: Path, name: str) -> Series:
    """A `timestamp,value[,...]` CSV, rows kept in file order (NAB's record order)."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = [row for row in reader if row]
    ts = np.array([row[0] for row in rows], dtype="datetime64[ns]")
    values = np.array([[float(v) if v else np.nan for v in row[1:]] for row in rows], dtype=np.float64)
    return Series(name, ts, values)


def read_windows(labels_file: Path) -> dict[str, list[tuple[np.datetime64, np.datetime64]]]:
    """combined_windows.json: relative CSV path -> [[start, end], ...], sorted by start."""
    raw = json.loads(labels_file.read_text())
    return {
        name: sorted((np.datetime64(a, "ns"), np.datetime64(b, "ns")) for a, b in spans)
        for name, spans in sorted(raw.items())
    }


def replay(detector: StreamingDetector, values: np.ndarray, chunk: int = DEFAULT_CHUNK) -> np.ndarray:
    """Scores of every row, fed in arrival order `chunk` rows at a time.

    The detectors here are chunk-invariant (a unit test replays one row at a time and
    compares bits), so the chunk size changes only speed, never what a row could see.
    """
    state = detector.start(values.shape[1])
    parts = []
    for start in range(0, len(values), chunk):
        batch, state = detector.update(state, values[start : start + chunk])
        parts.append(np.asarray(batch.score, dtype=np.float64))
    return np.concatenate(parts) if parts else np.empty(0)
