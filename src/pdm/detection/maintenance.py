"""The default online detector: contextual novelty plus level shift, stuck signal and impulse.

Contextual novelty (`pdm.detection.contextual`) is the best online detector we measured on
NAB; it sees a value leave the recent range or come in an unseen order, once. Machine
faults also move a level and keep it there, freeze a sensor, or jump far past anything
seen: `pdm.detection.drift` scores those for as long as they last, so hysteresis (k windows
in a row) can confirm them. A channel's share is the larger of the two; the row's raw score
is the largest share. The reported score rests after a detection, as contextual novelty's
does (NAB counts the earliest detection per window); the stream judges the raw score.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from pdm.detection import contextual, drift
from pdm.detection.contextual import ContextualParams, ContextualState
from pdm.detection.drift import DriftParams, DriftState
from pdm.detection.rolling import as_rows

MAINTENANCE_THRESHOLD = 0.5
NAB_DRIFT = DriftParams(z_low=20.0, z_high=40.0, stuck=False)
"""On raw NAB rows only large, lasting shifts count; many NAB series sit flat for hours by nature."""


@dataclass(frozen=True)
class MaintenanceParams:
    """Defaults are the NAB (one raw reading per row) ones; the stream's are in pdm.scoring.model."""

    contextual: ContextualParams = field(default_factory=ContextualParams)
    drift: DriftParams = NAB_DRIFT

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MaintenanceState:
    contextual: ContextualState
    drift: DriftState
    rest_left: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"contextual": self.contextual.to_dict(), "drift": self.drift.to_dict(),
                "rest_left": self.rest_left}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MaintenanceState:
        return cls(ContextualState.from_dict(data["contextual"]), DriftState.from_dict(data["drift"]),
                   int(data["rest_left"]))

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> MaintenanceState:
        return cls.from_dict(json.loads(raw))


@dataclass(frozen=True)
class MaintenanceScores:
    score: np.ndarray
    """Reported: the raw score, or 0 while resting after a detection."""
    raw: np.ndarray
    contributions: np.ndarray
    """(rows, channels) each channel's share: max(contextual, level, stuck)."""
    severe: np.ndarray
    """(rows,) an impulse far beyond the history's range: raise without waiting."""


def rest(params: ContextualParams, rest_left: int, raw: np.ndarray) -> tuple[np.ndarray, int]:
    """After a reported score reaches `rest_level`, the next `rest` are reported as 0."""
    reported = np.zeros(len(raw))
    for i, value in enumerate(raw.tolist()):
        if rest_left > 0:
            rest_left -= 1
            continue
        reported[i] = value
        if value >= params.rest_level:
            rest_left = params.rest
    return reported, rest_left


def score(
    params: MaintenanceParams, state: MaintenanceState, x: np.ndarray
) -> tuple[MaintenanceScores, MaintenanceState]:
    return score_many(params, [state], [x])[0]


def score_many(
    params: MaintenanceParams, states: Sequence[MaintenanceState], xs: Sequence[np.ndarray]
) -> list[tuple[MaintenanceScores, MaintenanceState]]:
    """Several independent series at once (the drift part in shared vectorised steps); the bits
    of each equal `score` on that series alone."""
    xs = [as_rows(x) for x in xs]
    restless = replace(params.contextual, rest=0)
    shifted = drift.score_many(params.drift, [s.drift for s in states], xs)
    out = []
    for state, x, (shifts, drift_state) in zip(states, xs, shifted, strict=True):
        ctx, ctx_state = contextual.score(restless, state.contextual, x)
        per_channel = np.maximum(ctx.contributions, shifts.contributions)
        raw = per_channel.max(axis=1) if x.shape[1] else np.zeros(len(x))
        reported, rest_left = rest(params.contextual, state.rest_left, raw)
        scores = MaintenanceScores(reported, raw, per_channel, shifts.severe)
        out.append((scores, MaintenanceState(ctx_state, drift_state, rest_left)))
    return out


class MaintenanceDetector:
    """Contextual novelty with drift behind the streaming-detector interface (start, update)."""

    algorithm = "contextual_drift"

    def __init__(self, params: MaintenanceParams | None = None) -> None:
        self.params = params or MaintenanceParams()

    def start(self, channels: int) -> MaintenanceState:
        return MaintenanceState(ContextualState.empty(channels, self.params.contextual.order),
                                DriftState.empty(channels))

    def update(
        self, state: MaintenanceState, values: np.ndarray
    ) -> tuple[MaintenanceScores, MaintenanceState]:
        return score(self.params, state, values)

    def update_many(
        self, states: Sequence[MaintenanceState], values: Sequence[np.ndarray]
    ) -> list[tuple[MaintenanceScores, MaintenanceState]]:
        """`update` of several independent series (assets, channels) in one call."""
        return score_many(self.params, states, values)
