"""Range novelty: how far a reading leaves the range its channel spanned over the recent past.

The strongest online detector we measured on NAB (docs/detection.md). Many machine faults
first show as a value the asset has not produced for days: a temperature below any recent
trough, a latency above any recent peak. Needs no training, scores from the first hundred
readings, and keeps a bounded, block-aligned tail per asset.

The recent range is the extremes of the last `blocks` complete blocks of `block` readings
plus the readings of the current block so far. Blocks are aligned on the asset's reading
count, so the range, and hence every score, is the same however the stream was batched.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from pdm.detection.rolling import as_rows, trailing_windows
from pdm.features.state import decode_array, encode_array

DEFAULT_THRESHOLD = 0.5
"""Fixed before looking at labels: a channel half-way to the sensitivity excess."""


@dataclass(frozen=True)
class NoveltyParams:
    block: int = 50
    blocks: int = 60
    sensitivity: float = 0.02
    """Excess, as a fraction of the recent range, at which a channel's score reaches 1."""
    refractory: int = 25
    """A score is reported only if it beats every raw score of this many readings before it."""
    min_history: int = 100

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class NoveltyState:
    tail: np.ndarray
    recent_scores: np.ndarray
    seen: int = 0

    @classmethod
    def empty(cls, channels: int) -> NoveltyState:
        return cls(np.empty((0, channels)), np.empty((0, 1)), 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tail": encode_array(self.tail),
            "recent_scores": encode_array(self.recent_scores),
            "seen": self.seen,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NoveltyState:
        return cls(decode_array(data["tail"]), decode_array(data["recent_scores"]), int(data["seen"]))

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> NoveltyState:
        return cls.from_dict(json.loads(raw))


@dataclass(frozen=True)
class NoveltyScores:
    score: np.ndarray
    raw: np.ndarray
    contributions: np.ndarray


def _recent_extremes(
    params: NoveltyParams, full: np.ndarray, new_count: int
) -> tuple[np.ndarray, np.ndarray]:
    """Max and min over each new reading's recent past; `full` starts on a block boundary."""
    size, channels = params.block, full.shape[1]
    padded_len = -(-len(full) // size) * size
    padded = np.concatenate((full, np.full((padded_len - len(full), channels), np.nan)))
    blocks = padded.reshape(-1, size, channels)
    positions = np.arange(len(full) - new_count, len(full))
    block_of = positions // size
    # Only the blocks the new readings fall in need their `blocks` predecessors' extremes (a stream's
    # micro-batch touches one or two); reducing the whole tail's sliding windows cost ~250 µs a call.
    needed, which = np.unique(block_of, return_inverse=True)
    lookback = needed[:, None] + np.arange(params.blocks)[None, :]
    extremes = []
    for reduce in (np.fmax, np.fmin):
        whole = np.concatenate((np.full((params.blocks, channels), np.nan), reduce.reduce(blocks, axis=1)))
        earlier = reduce.reduce(whole[lookback], axis=1)
        within = reduce.accumulate(blocks, axis=1)
        before = np.concatenate((np.full((len(blocks), 1, channels), np.nan), within[:, :-1]), axis=1)
        extremes.append(reduce(earlier[which.reshape(-1)], before.reshape(-1, channels)[positions]))
    return extremes[0], extremes[1]


def channel_scores(params: NoveltyParams, state: NoveltyState, x: np.ndarray) -> np.ndarray:
    """Per-channel novelty in [0, 1]; 0 while the channel has too little history."""
    full = np.concatenate((state.tail, x))
    high, low = _recent_extremes(params, full, len(x))
    span = np.maximum(high - low, 1e-9 * (1.0 + np.abs(high)))
    with np.errstate(invalid="ignore"):
        excess = np.maximum(x - high, 0.0) + np.maximum(low - x, 0.0)
        scores = np.minimum(excess / (params.sensitivity * span), 1.0)
    seen = state.seen + np.arange(len(x))
    return np.where((seen >= params.min_history)[:, None], np.nan_to_num(scores, nan=0.0), 0.0)


def suppress_repeats(params: NoveltyParams, recent: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """Keep a score only if it beats all raw scores of the refractory span before it.

    Threshold-free, so a corpus-wide threshold sweep stays meaningful; at any threshold a
    long excursion fires once at its start and again only if it grows.
    """
    windows = trailing_windows(recent, raw[:, None], params.refractory)[:, 0]
    previous_best = np.nan_to_num(np.fmax.reduce(windows, axis=-1), nan=-np.inf)
    return np.where(raw > previous_best, raw, 0.0)


def score(params: NoveltyParams, state: NoveltyState, x: np.ndarray) -> tuple[NoveltyScores, NoveltyState]:
    x = as_rows(x)
    per_channel = channel_scores(params, state, x)
    raw = per_channel.max(axis=1) if per_channel.shape[1] else np.zeros(len(x))
    reported = suppress_repeats(params, state.recent_scores, raw)
    seen = state.seen + len(x)
    keep_from = max(0, seen // params.block - params.blocks) * params.block
    full = np.concatenate((state.tail, x))
    recent = np.concatenate((state.recent_scores, raw[:, None]))
    next_state = NoveltyState(
        full[keep_from - (state.seen - len(state.tail)) :],
        recent[len(recent) - min(len(recent), params.refractory) :],
        seen,
    )
    return NoveltyScores(reported, raw, per_channel), next_state


class NoveltyDetector:
    """Range novelty behind the streaming-detector interface (start, update)."""

    algorithm = "range_novelty"

    def __init__(self, params: NoveltyParams | None = None) -> None:
        self.params = params or NoveltyParams()

    def start(self, channels: int) -> NoveltyState:
        return NoveltyState.empty(channels)

    def update(self, state: NoveltyState, values: np.ndarray) -> tuple[NoveltyScores, NoveltyState]:
        return score(self.params, state, values)
