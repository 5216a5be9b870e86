"""Contextual novelty: range novelty combined with the surprise of unseen short value patterns.

Range novelty (`pdm.detection.novelty`) catches readings that leave the recent range. It is
blind to readings that stay inside the range but come in an order the asset has not
produced before: a flat stretch in a daily cycle, a step inside the usual band, a burst of
spikes. This detector adds a context model in the spirit of CAD OSE (context anomaly
detection), written from scratch and kept causal:

- Each channel's value is quantised into `bins` equal bins over the range seen during its
  first `learning` readings (values beyond get extra bins, up to one range either side).
  When that range is fixed, the contexts learnt while it was still moving are forgotten and
  learning starts again on the final bins.
- A context of order k is the last k symbols. A reading is novel at order m when the
  context of order m ending at it has never been seen before, but the one of order m - 1 has.
- How surprising that is depends on how often novelties at order m or lower have happened
  on this channel since the range was fixed: `rate = (that count + 1) / (readings + 2)`,
  and the context score is `log(rate) / log(rarity)`, capped at 1. Noisy channels, where
  new contexts are common, stop alarming; a new context on a channel that has settled scores
  near 1.
- A channel's score is the larger of its range novelty and its context score; the reading's
  raw score is the largest over channels.
- After a reported score reaches `rest_level`, the next `rest` reported scores are 0 (NAB
  counts only the earliest detection per anomaly window; a person paged once per excursion).

Everything is computed reading by reading from the state and earlier readings only, so the
scores are the same however the stream is batched, and a state round-trip is exact.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from pdm.detection import novelty
from pdm.detection.novelty import NoveltyParams, NoveltyState
from pdm.detection.rolling import as_rows
from pdm.features.state import decode_array, encode_array

CONTEXTUAL_THRESHOLD = 0.5
"""Fixed before looking at labels: equal to `rest_level`, the level at which a detection rests."""


@dataclass(frozen=True)
class ContextualParams:
    bins: int = 6
    order: int = 3
    """Longest context, in readings."""
    learning: int = 300
    """Readings that set each channel's quantisation range; context scores are 0 until then,
    and the contexts and counts learnt on the still-moving range are then forgotten."""
    rarity: float = 1e-4
    """Novelty rate at which the context score reaches 1."""
    rest: int = 100
    """Readings reported as 0 after a reported score reaches `rest_level`."""
    rest_level: float = 0.5
    novelty: NoveltyParams = field(default_factory=NoveltyParams)

    def __post_init__(self) -> None:
        if self.bins < 2 or not 1 <= self.order <= 12 or self.learning < 1:
            raise ValueError("bins >= 2, 1 <= order <= 12 and learning >= 1 are required")
        if not 0.0 < self.rarity < 1.0 or self.rest < 0:
            raise ValueError("0 < rarity < 1 and rest >= 0 are required")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ContextualState:
    """Per channel: quantisation range, last symbols (-1 = none yet), novelty counts, seen contexts.

    `contexts[c]` is the sorted int64 array of context keys channel c has produced. It grows
    with the number of distinct contexts, at most (3·bins + 1)^order per channel.
    """

    novelty: NoveltyState
    low: np.ndarray
    high: np.ndarray
    symbols: np.ndarray
    novel_counts: np.ndarray
    contexts: tuple[np.ndarray, ...]
    steps: np.ndarray
    rest_left: int = 0
    seen: int = 0

    @classmethod
    def empty(cls, channels: int, order: int) -> ContextualState:
        return cls(
            NoveltyState.empty(channels),
            np.full(channels, np.nan),
            np.full(channels, np.nan),
            np.full((channels, order), -1, dtype=np.int64),
            np.zeros((channels, order + 1), dtype=np.int64),
            tuple(np.empty(0, dtype=np.int64) for _ in range(channels)),
            np.zeros(channels, dtype=np.int64),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "novelty": self.novelty.to_dict(),
            "low": encode_array(self.low),
            "high": encode_array(self.high),
            "symbols": encode_array(self.symbols),
            "novel_counts": encode_array(self.novel_counts),
            "contexts": [encode_array(c) for c in self.contexts],
            "steps": encode_array(self.steps),
            "rest_left": self.rest_left,
            "seen": self.seen,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContextualState:
        return cls(
            NoveltyState.from_dict(data["novelty"]),
            decode_array(data["low"]),
            decode_array(data["high"]),
            decode_array(data["symbols"]),
            decode_array(data["novel_counts"]),
            tuple(decode_array(c) for c in data["contexts"]),
            decode_array(data["steps"]),
            int(data["rest_left"]),
            int(data["seen"]),
        )

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> ContextualState:
        return cls.from_dict(json.loads(raw))


@dataclass(frozen=True)
class ContextualScores:
    score: np.ndarray
    """Reported score in [0, 1]: the raw score, or 0 while resting after a detection."""
    raw: np.ndarray
    contributions: np.ndarray
    """Per channel: max(range novelty, context score)."""
    context: np.ndarray
    """Per channel context score alone."""


class _ChannelContexts:
    """Mutable working copy of one channel's context model for the length of one update."""

    def __init__(self, params: ContextualParams, state: ContextualState, channel: int) -> None:
        self.params = params
        self.low = float(state.low[channel])
        self.high = float(state.high[channel])
        self.symbols = [int(s) for s in state.symbols[channel] if s >= 0]
        self.novel = [int(n) for n in state.novel_counts[channel]]
        self.known = state.contexts[channel]
        self.contexts = set(self.known.tolist())
        self.changed = False
        """Whether `contexts` differs from `known`: an unchanged set keeps its sorted array."""
        self.steps = int(state.steps[channel])
        self.base = 3 * params.bins + 1
        self.log_rarity = math.log(params.rarity)

    def symbol(self, value: float) -> int:
        bins = self.params.bins
        span = self.high - self.low
        step = max(span, 1e-9 * (1.0 + abs(self.high))) / bins
        position = math.floor((value - self.low) / step)
        if value <= self.high:
            position = min(position, bins - 1)
        return min(max(position, -bins), 2 * bins - 1) + bins

    def sorted_contexts(self) -> np.ndarray:
        return np.array(sorted(self.contexts), dtype=np.int64) if self.changed else self.known

    def step(self, value: float) -> float:
        """Score one finite reading, then learn it."""
        params = self.params
        if self.steps < params.learning:
            self.low = value if math.isnan(self.low) else min(self.low, value)
            self.high = value if math.isnan(self.high) else max(self.high, value)
        if self.steps == params.learning:
            self.contexts.clear()
            self.changed = True
            self.novel = [0] * len(self.novel)
            self.symbols = []
        self.symbols.append(self.symbol(value))
        self.symbols = self.symbols[-params.order :]
        keys, key = [], 0
        for k in range(1, len(self.symbols) + 1):
            key = key * self.base + self.symbols[-k] + 1
            keys.append(key)
        lowest = next((k for k, key in enumerate(keys, start=1) if key not in self.contexts), 0)
        score = 0.0
        if lowest:
            self.contexts.update(keys[lowest - 1 :])
            self.changed = True
            learnt = self.steps - params.learning if self.steps >= params.learning else self.steps
            rate = (self.novel[lowest] + 1.0) / (learnt + 2.0)
            score = min(1.0, math.log(rate) / self.log_rarity)
            for k in range(lowest, params.order + 1):
                self.novel[k] += 1
        self.steps += 1
        return score if self.steps > params.learning else 0.0


def score(
    params: ContextualParams, state: ContextualState, x: np.ndarray
) -> tuple[ContextualScores, ContextualState]:
    x = as_rows(x)
    ranged, novelty_state = novelty.score(params.novelty, state.novelty, x)
    channels = x.shape[1]
    models = [_ChannelContexts(params, state, c) for c in range(channels)]
    context = np.zeros(x.shape)
    for c, model in enumerate(models):
        column = x[:, c].tolist()
        for i, value in enumerate(column):
            if math.isfinite(value):
                context[i, c] = model.step(value)
    per_channel = np.maximum(ranged.contributions, context)
    raw = per_channel.max(axis=1) if channels else np.zeros(len(x))
    reported = np.zeros(len(x))
    rest_left = state.rest_left
    for i, value in enumerate(raw.tolist()):
        if rest_left > 0:
            rest_left -= 1
            continue
        reported[i] = value
        if value >= params.rest_level:
            rest_left = params.rest
    order = params.order
    next_state = ContextualState(
        novelty_state,
        np.array([m.low for m in models], dtype=np.float64),
        np.array([m.high for m in models], dtype=np.float64),
        np.array([([-1] * order + m.symbols)[-order:] for m in models], dtype=np.int64).reshape(
            channels, order
        ),
        np.array([m.novel for m in models], dtype=np.int64).reshape(channels, order + 1),
        tuple(m.sorted_contexts() for m in models),
        np.array([m.steps for m in models], dtype=np.int64),
        rest_left,
        state.seen + len(x),
    )
    return ContextualScores(reported, raw, per_channel, context), next_state


class ContextualDetector:
    """Contextual novelty behind the streaming-detector interface (start, update)."""

    algorithm = "contextual_novelty"

    def __init__(self, params: ContextualParams | None = None) -> None:
        self.params = params or ContextualParams()

    def start(self, channels: int) -> ContextualState:
        return ContextualState.empty(channels, self.params.order)

    def update(self, state: ContextualState, values: np.ndarray) -> tuple[ContextualScores, ContextualState]:
        return score(self.params, state, values)
