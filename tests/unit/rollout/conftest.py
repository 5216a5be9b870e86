"""Fixtures for saga tests: a rollout driven by `next_step` alone, on a clock the test moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from pdm.domain.audit import Audit
from pdm.domain.rollout_evidence import (
    Backtest,
    CanaryEvidence,
    Observations,
    ScoreStats,
    ShadowEvidence,
    Verdict,
)
from pdm.domain.rollout_policy import RolloutPolicy
from pdm.domain.rollout_service import apply_record
from pdm.domain.rollout_steps import Finish, Instruction, Publish, Record, next_step
from pdm.domain.rollouts import Rollout

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
SAGA = Audit("saga", "test")
CANDIDATE = ("pca-2", "a" * 64)
BASELINE = ("novelty-v1", "b" * 64)
ASSETS = tuple(f"pump-{n}" for n in range(10))
RID = UUID("00000000-0000-0000-0000-0000000000aa")
POLICY = RolloutPolicy(shadow_s=60, shadow_deadline_s=120, canary_s=60, canary_deadline_s=120,
                       validate_deadline_s=30, min_scores=10, canary_fraction=0.2)

GOOD_BACKTEST = Backtest({"alert_rate_per_asset_day": 1.0, "precision": 0.8},
                         {"alert_rate_per_asset_day": 1.0, "precision": 0.8})
# Enough windows that equal 2% rates are significantly within the 0.02 margin (see test_verdicts)
GOOD_SHADOW = ShadowEvidence(ScoreStats(1000, 20), ScoreStats(1000, 20), paired=1000, agreed=980,
                             latency_cost_ms=5.0)
GOOD_CANARY = CanaryEvidence(ScoreStats(500, 10), ScoreStats(2000, 40))
GOOD = Observations(GOOD_BACKTEST, GOOD_SHADOW, GOOD_CANARY, ASSETS)


def new_rollout(policy: RolloutPolicy = POLICY, **kw: Any) -> Rollout:
    return Rollout(RID, *CANDIDATE, *BASELINE, policy.as_data(), at=kw.get("at", T0), **SAGA.fields)


@dataclass
class Driver:
    """Executes instructions as the saga shell would, recording what it published."""

    rollout: Rollout
    now: datetime = T0
    published: list[Publish] = field(default_factory=list)
    finished: bool = False

    def step(self, observations: Observations = GOOD) -> list[Instruction]:
        """Like the shell: decide again after every recorded decision, until there is none."""
        done: list[Instruction] = []
        for _ in range(20):
            version = self.rollout.version
            done += self.once(observations)
            if self.rollout.version == version:
                return done
        raise AssertionError("the saga does not settle")

    def once(self, observations: Observations = GOOD) -> list[Instruction]:
        instructions = next_step(self.rollout, observations, self.now)
        for instruction in instructions:
            if isinstance(instruction, Publish):
                self.published.append(instruction)
            elif isinstance(instruction, Record):
                apply_record(self.rollout, instruction, self.now, SAGA)
            elif isinstance(instruction, Finish):
                self.finished = True
        return instructions

    def advance(self, seconds: float, observations: Observations = GOOD) -> list[Instruction]:
        self.now += timedelta(seconds=seconds)
        return self.step(observations)

    def events(self) -> list[str]:
        return [type(e).__name__ for e in self.rollout.pending_events]

    def served(self) -> dict[str, str]:
        """Which version each asset would get from the published keys (named beats "*")."""
        keys: dict[str, Any] = {}
        for p in self.published:
            if p.deployment is None or p.deployment.step == "rolled_back":
                keys.pop(p.key, None)
            else:
                keys[p.key] = p.deployment
        fleet = [d for d in keys.values() if d.assets == "*" and d.step != "shadow"]
        named = [d for d in keys.values() if d.assets != "*"]
        out = {}
        for asset in ASSETS:
            mine = [d for d in named if asset in d.assets]
            out[asset] = (mine or fleet or [None])[-1].model_version if (mine or fleet) else BASELINE[0]
        return out


@pytest.fixture
def driver() -> Driver:
    return Driver(new_rollout())


def promotion(rid: UUID, canary: tuple[str, ...] = ASSETS[:1]) -> list[Record]:
    """The saga's decisions of a rollout that passes every step, up to `Promoted`."""
    passed = Verdict(True, {})
    return [Record(rid, "validate", "validate", verdict=passed), Record(rid, "shadow", "start_shadow"),
            Record(rid, "shadow", "evaluate_shadow", verdict=passed),
            Record(rid, "canary", "start_canary", assets=canary),
            Record(rid, "canary", "evaluate_canary", verdict=passed), Record(rid, "promote", "promote")]
