"""`next_step`: the saga's pure decision, from a rollout's state, observations and the time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

from pdm.contracts.downstream import DeploymentV1
from pdm.domain.rollout_evidence import Observations, Verdict, judge_backtest, judge_canary, judge_shadow
from pdm.domain.rollout_policy import FAILED, RolloutState, choose_canary
from pdm.domain.rollouts import Rollout

FLEET_KEY = "*"
Tag = Literal["shadow", "canary", "promoted", "rolled_back"]
Action = Literal["validate", "start_shadow", "evaluate_shadow", "start_canary", "evaluate_canary",
                 "promote", "roll_back", "time_out", "compensate"]


def deployment_key(rollout_id: UUID, step: str) -> str:
    """One compacted-topic key per rollout step: re-publishing it replaces, never adds."""
    return f"rollout/{rollout_id}/{step}"


@dataclass(frozen=True)
class Instruction:
    """Carries the rollout id and the step, so a re-sent instruction is recognisably the same."""

    rollout_id: UUID
    step: str


@dataclass(frozen=True)
class Publish(Instruction):
    """Put `deployment` under `key` on pdm.deployments.v1; None is a tombstone."""

    key: str
    deployment: DeploymentV1 | None


@dataclass(frozen=True)
class Record(Instruction):
    """Record a decision on the aggregate: `action` names the service method's verb."""

    action: Action
    verdict: Verdict | None = None
    assets: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class Finish(Instruction):
    """Every effect of a final rollout is published: the saga may stop looking at it."""


def next_step(rollout: Rollout, observations: Observations, now: datetime) -> list[Instruction]:
    """What to do now, in order; an empty list means wait. Deterministic in its arguments."""
    if rollout.state in FAILED or rollout.state is RolloutState.REJECTED:
        return _compensations(rollout)
    if rollout.state is RolloutState.PROMOTED:
        return _promotion(rollout)
    deadline = rollout.deadline
    if deadline is not None and now >= deadline:
        return [Record(rollout.id, rollout.state.value, "time_out")]
    return _forward(rollout, observations, now)


def _forward(rollout: Rollout, obs: Observations, now: datetime) -> list[Instruction]:
    state, rid, policy = rollout.state, rollout.id, rollout.policy
    if state is RolloutState.STARTED:
        return [] if obs.backtest is None else [
            Record(rid, "validate", "validate", verdict=judge_backtest(obs.backtest, policy))]
    if state is RolloutState.VALIDATED and policy.shadow:
        return [Record(rid, "shadow", "start_shadow")]
    if state in (RolloutState.VALIDATED, RolloutState.SHADOW_EVALUATED):
        return _after_shadow(rollout, obs)
    if state is RolloutState.SHADOWING:
        verdict = judge_shadow(obs.shadow, policy) if obs.shadow else None
        return _live(rollout) + _when_due(rollout, now, policy.shadow_s, "evaluate_shadow", verdict)
    if state is RolloutState.CANARY:
        verdict = judge_canary(obs.canary, policy) if obs.canary else None
        return _live(rollout) + _when_due(rollout, now, policy.canary_s, "evaluate_canary", verdict)
    canary = rollout.evaluations["canary"]
    if not canary["passed"]:
        return [Record(rid, "canary", "roll_back", reason=canary["reason"])]
    return [*_live(rollout), Record(rid, "promote", "promote")]


def _after_shadow(rollout: Rollout, obs: Observations) -> list[Instruction]:
    shadow = rollout.evaluations.get("shadow")
    if shadow is not None and not shadow["passed"]:
        return [Record(rollout.id, "shadow", "roll_back", reason=shadow["reason"])]
    assets = choose_canary(rollout.id, obs.assets, rollout.policy)
    start = [Record(rollout.id, "canary", "start_canary", assets=assets)] if assets else []
    return _live(rollout) + start


def _when_due(rollout: Rollout, now: datetime, duration_s: float, action: Action,
              verdict: Verdict | None) -> list[Instruction]:
    """A step is judged once its duration has passed and the evidence suffices, not before."""
    if verdict is None or now < rollout.entered_at + timedelta(seconds=duration_s):
        return []
    return [Record(rollout.id, action.removeprefix("evaluate_"), action, verdict=verdict)]


def _live(rollout: Rollout) -> list[Instruction]:
    """The current deployments, re-sent while the step lasts: a resumed saga repeats them."""
    return [Publish(rollout.id, step, deployment_key(rollout.id, step), _deployment(rollout, step))
            for step in rollout.active]


def _promotion(rollout: Rollout) -> list[Instruction]:
    """The fleet moves first, then the step keys go: canary assets never return to the baseline."""
    rid = rollout.id
    fleet = _deployment(rollout, "promoted")
    steps = [Publish(rid, "promote", FLEET_KEY, fleet)]
    steps += [Publish(rid, "promote", deployment_key(rid, step), None) for step in rollout.active]
    return [*steps, Finish(rid, "promote")]


def _compensations(rollout: Rollout) -> list[Instruction]:
    """Newest live step first; each withdrawal is published before it is recorded as done."""
    steps: list[Instruction] = []
    for step in rollout.pending_compensations:
        withdrawal = _deployment(rollout, step, withdraw=True)
        steps += [Publish(rollout.id, step, deployment_key(rollout.id, step), withdrawal),
                  Record(rollout.id, step, "compensate")]
    return [*steps, Finish(rollout.id, rollout.state.value)]


def _deployment(rollout: Rollout, step: str, withdraw: bool = False) -> DeploymentV1:
    """A withdrawal names the baseline: the assets it covered go back to what serves "*"."""
    version, digest = rollout.baseline if withdraw else rollout.candidate
    assets: list[str] | Literal["*"] = "*"
    if step == "canary" and rollout.canary_assets:
        assets = list(rollout.canary_assets)
    tag: Tag = "rolled_back" if withdraw else step  # type: ignore[assignment]
    return DeploymentV1(model_version=version, artifact_hash=digest, assets=assets,
                        rollout_id=rollout.id, step=tag)
