"""Rollout policy and states: margins, durations, canary size and step deadlines of one rollout."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import timedelta
from enum import StrEnum
from hashlib import sha256
from typing import Any
from uuid import UUID

from pdm.domain.errors import InvalidRolloutPolicyError


class RolloutState(StrEnum):
    STARTED = "started"
    VALIDATED = "validated"
    REJECTED = "rejected"
    SHADOWING = "shadowing"
    SHADOW_EVALUATED = "shadow_evaluated"
    CANARY = "canary"
    CANARY_EVALUATED = "canary_evaluated"
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled_back"
    ABORTED = "aborted"
    TIMED_OUT = "timed_out"


FINAL = frozenset({RolloutState.REJECTED, RolloutState.PROMOTED, RolloutState.ROLLED_BACK,
                   RolloutState.ABORTED, RolloutState.TIMED_OUT})
FAILED = frozenset({RolloutState.ROLLED_BACK, RolloutState.ABORTED, RolloutState.TIMED_OUT})


@dataclass(frozen=True)
class RolloutPolicy:
    """Margins are tolerances of the candidate against the baseline, never absolute targets.

    Rates are fractions of scored windows flagged anomalous (live) or alerts per asset-day
    (backtest). Durations and deadlines are seconds; a deadline runs from entering a state.
    """

    max_alert_rate_increase: float = 0.10  # backtest: relative increase allowed
    max_precision_drop: float = 0.05  # backtest: absolute drop allowed
    shadow: bool = True
    shadow_s: float = 3600.0
    min_agreement: float = 0.90
    max_alert_rate_delta: float = 0.02  # live: candidate rate minus baseline rate
    max_latency_cost_ms: float = 500.0
    canary_fraction: float = 0.10
    canary_assets: tuple[str, ...] = ()  # explicit canary; overrides the fraction
    canary_s: float = 3600.0
    min_scores: int = 20  # evidence an evaluation needs from the candidate
    confidence: float = 0.95  # one-sided, of the alert-rate comparison against the margin
    validate_deadline_s: float = 600.0
    shadow_deadline_s: float = 7200.0
    canary_deadline_s: float = 7200.0

    def __post_init__(self) -> None:
        if not 0 < self.canary_fraction <= 1 and not self.canary_assets:
            raise InvalidRolloutPolicyError("canary_fraction must be in (0, 1]")
        if self.shadow and self.shadow_deadline_s <= self.shadow_s:
            raise InvalidRolloutPolicyError("shadow_deadline_s must exceed shadow_s")
        if self.canary_deadline_s <= self.canary_s:
            raise InvalidRolloutPolicyError("canary_deadline_s must exceed canary_s")
        if not 0.5 <= self.confidence < 1:
            raise InvalidRolloutPolicyError("confidence must be in [0.5, 1)")
        if min(self.shadow_s, self.canary_s, self.validate_deadline_s, self.min_scores) < 0:
            raise InvalidRolloutPolicyError("durations, deadlines and min_scores must not be negative")

    def as_data(self) -> dict[str, Any]:
        return {**asdict(self), "canary_assets": list(self.canary_assets)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> RolloutPolicy:
        """Unknown keys are refused, so a typo in a policy is an error, not a silent default."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidRolloutPolicyError(f"unknown policy fields: {', '.join(unknown)}")
        values = dict(data)
        if "canary_assets" in values:
            values["canary_assets"] = tuple(values["canary_assets"])
        return cls(**values)

    def deadline_after(self, state: RolloutState) -> timedelta | None:
        """How long a state may last; states the saga leaves at once share the next wait's."""
        seconds = {
            RolloutState.STARTED: self.validate_deadline_s,
            RolloutState.VALIDATED: self.validate_deadline_s,
            RolloutState.SHADOWING: self.shadow_deadline_s,
            RolloutState.SHADOW_EVALUATED: self.canary_deadline_s,
            RolloutState.CANARY: self.canary_deadline_s,
            RolloutState.CANARY_EVALUATED: self.canary_deadline_s,
        }.get(state)
        return None if seconds is None else timedelta(seconds=seconds)


DEFAULT_ROLLOUT_POLICY = RolloutPolicy()


def choose_canary(rollout_id: UUID, assets: Sequence[str], policy: RolloutPolicy) -> tuple[str, ...]:
    """Deterministic per rollout (a hash ranks the assets), so a resumed saga picks the same ones."""
    if policy.canary_assets:
        return tuple(sorted(policy.canary_assets))
    ranked = sorted(set(assets), key=lambda a: sha256(f"{rollout_id}/{a}".encode()).hexdigest())
    size = max(1, math.ceil(policy.canary_fraction * len(ranked))) if ranked else 0
    return tuple(sorted(ranked[:size]))
