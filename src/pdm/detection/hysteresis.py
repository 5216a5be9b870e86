"""Alert hysteresis: k consecutive anomalous windows raise, m consecutive normal ones clear."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np


class Transition(Enum):
    NONE = "none"
    RAISED = "raised"
    CLEARED = "cleared"


@dataclass(frozen=True)
class Hysteresis:
    raise_after: int = 3
    clear_after: int = 5

    def __post_init__(self) -> None:
        if self.raise_after < 1 or self.clear_after < 1:
            raise ValueError("raise_after and clear_after must be at least 1")


@dataclass(frozen=True)
class HysteresisState:
    """Per asset: whether an alert is active and how long the current run has lasted."""

    active: bool = False
    run: int = 0

    def as_dict(self) -> dict[str, int | bool]:
        return {"active": self.active, "run": self.run}

    @classmethod
    def from_dict(cls, data: dict[str, int | bool]) -> HysteresisState:
        return cls(bool(data["active"]), int(data["run"]))


def step(rule: Hysteresis, state: HysteresisState, anomalous: bool) -> tuple[HysteresisState, Transition]:
    """One window's decision. `run` counts the windows that argue against the current state."""
    contrary = anomalous != state.active
    run = state.run + 1 if contrary else 0
    needed = rule.clear_after if state.active else rule.raise_after
    if contrary and run >= needed:
        flipped = Transition.CLEARED if state.active else Transition.RAISED
        return HysteresisState(not state.active, 0), flipped
    return HysteresisState(state.active, run), Transition.NONE


def run(
    rule: Hysteresis, state: HysteresisState, anomalous: np.ndarray
) -> tuple[np.ndarray, list[Transition], HysteresisState]:
    """Apply `step` over a batch of windows in order: per-window active flags and transitions.

    A loop over windows (not readings), and the same loop for a stream and a replay.
    """
    active = np.zeros(len(anomalous), dtype=bool)
    transitions = []
    for i, flag in enumerate(np.asarray(anomalous, bool).tolist()):
        state, transition = step(rule, state, flag)
        active[i] = state.active
        transitions.append(transition)
    return active, transitions, state
