"""The Rollout aggregate: one candidate model's way from validation to promotion or rollback."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from pdm.domain.audit import Audit
from pdm.domain.errors import RolloutStateError
from pdm.domain.rollout_evidence import Verdict
from pdm.domain.rollout_policy import FINAL, RolloutPolicy
from pdm.domain.rollout_policy import RolloutState as S


class Rollout(Aggregate):
    """A process manager's memory: every decision the saga made, so a restart resumes it.

    `active` lists the steps whose deployments are live (shadow, canary): what a failure
    must compensate, newest first. `pending_compensations` empties as each is undone.
    """

    class Event(Aggregate.Event):
        actor: str
        correlation_id: str
        at: datetime

    class Started(Event, Aggregate.Created):
        rollout_id: UUID
        candidate_version: str
        candidate_hash: str
        baseline_version: str
        baseline_hash: str
        policy: dict[str, Any]

    class Validated(Event):
        metrics: dict[str, float]

    class Rejected(Event):
        metrics: dict[str, float]
        reason: str

    class ShadowStarted(Event):
        pass

    class ShadowEvaluated(Event):
        metrics: dict[str, float]
        passed: bool
        reason: str

    class CanaryStarted(Event):
        assets: list[str]

    class CanaryEvaluated(Event):
        metrics: dict[str, float]
        passed: bool
        reason: str

    class Promoted(Event):
        pass

    class RolledBack(Event):
        reason: str
        compensations: list[str]

    class Aborted(Event):
        reason: str
        compensations: list[str]

    class TimedOut(Event):
        step: str
        deadline: datetime
        compensations: list[str]

    class Compensated(Event):
        step: str

    @staticmethod
    def create_id(rollout_id: UUID) -> UUID:
        """Chosen by the caller (see `id_for`), so a retried start names the same rollout."""
        return rollout_id

    @staticmethod
    def id_for(candidate_hash: str, request: str) -> UUID:
        """Derived from the request that started it: the same request twice is one rollout."""
        return uuid5(NAMESPACE_URL, f"/pdm/rollouts/{candidate_hash}/{request}")

    def __init__(self, rollout_id: UUID, candidate_version: str, candidate_hash: str, baseline_version: str,
                 baseline_hash: str, policy: dict[str, Any], actor: str, correlation_id: str,
                 at: datetime) -> None:
        self.candidate = (candidate_version, candidate_hash)
        self.baseline = (baseline_version, baseline_hash)
        self.policy = RolloutPolicy.from_data(policy)
        self.started_at = self.entered_at = at
        self.state = S.STARTED
        self.evaluations: dict[str, dict[str, Any]] = {}
        self.canary_assets: tuple[str, ...] = ()
        self.active: list[str] = []
        self.pending_compensations: list[str] = []
        self.reason = ""

    @property
    def deadline(self) -> datetime | None:
        wait = self.policy.deadline_after(self.state)
        return None if wait is None else self.entered_at + wait

    @property
    def finished(self) -> bool:
        """Final, and nothing left to undo: the deployments say what the events say."""
        return self.state in FINAL and not self.pending_compensations

    def same_start(self, candidate: tuple[str, str], baseline: tuple[str, str],
                   policy: RolloutPolicy) -> bool:
        return (self.candidate, self.baseline, self.policy) == (candidate, baseline, policy)

    def record_validation(self, verdict: Verdict, at: datetime, audit: Audit) -> None:
        self._require((S.STARTED,), "validate")
        if verdict.passed:
            self._validated(verdict.metrics, at=at, **audit.fields)
        else:
            self._rejected(verdict.metrics, verdict.reason, at=at, **audit.fields)

    def start_shadow(self, at: datetime, audit: Audit) -> None:
        self._require((S.VALIDATED,), "start shadow")
        self._shadow_started(at=at, **audit.fields)

    def record_shadow_evaluation(self, verdict: Verdict, at: datetime, audit: Audit) -> None:
        self._require((S.SHADOWING,), "evaluate shadow")
        self._shadow_evaluated(verdict.metrics, verdict.passed, verdict.reason, at=at, **audit.fields)

    def start_canary(self, assets: tuple[str, ...], at: datetime, audit: Audit) -> None:
        ready = (S.SHADOW_EVALUATED,) if self.policy.shadow else (S.VALIDATED,)
        self._require(ready, "start canary")
        if not assets or (self.state is S.SHADOW_EVALUATED and not self.evaluations["shadow"]["passed"]):
            raise RolloutStateError(self.id, self.state, "start canary")
        self._canary_started(list(assets), at=at, **audit.fields)

    def record_canary_evaluation(self, verdict: Verdict, at: datetime, audit: Audit) -> None:
        self._require((S.CANARY,), "evaluate canary")
        self._canary_evaluated(verdict.metrics, verdict.passed, verdict.reason, at=at, **audit.fields)

    def promote(self, at: datetime, audit: Audit) -> None:
        self._require((S.CANARY_EVALUATED,), "promote")
        if not self.evaluations["canary"]["passed"]:
            raise RolloutStateError(self.id, self.state, "promote")
        self._promoted(at=at, **audit.fields)

    def roll_back(self, reason: str, at: datetime, audit: Audit) -> None:
        self._require_open("roll back")
        self._rolled_back(reason, self._undo(), at=at, **audit.fields)

    def abort(self, reason: str, at: datetime, audit: Audit) -> bool:
        """Aborting twice is a no-op; aborting a finished rollout is refused."""
        if self.state is S.ABORTED:
            return False
        self._require_open("abort")
        self._aborted(reason, self._undo(), at=at, **audit.fields)
        return True

    def time_out(self, at: datetime, audit: Audit) -> bool:
        """A deadline that is not yet due, or belongs to a state already left, does nothing."""
        deadline = self.deadline
        if self.state in FINAL or deadline is None or at < deadline:
            return False
        self._timed_out(self.state.value, deadline, self._undo(), at=at, **audit.fields)
        return True

    def compensate(self, step: str, at: datetime, audit: Audit) -> bool:
        """In order only: the newest live step is undone first."""
        if step not in self.pending_compensations:
            return False
        if step != self.pending_compensations[0]:
            first = self.pending_compensations[0]
            raise RolloutStateError(self.id, self.state, f"compensate {step} before {first}")
        self._compensated(step, at=at, **audit.fields)
        return True

    def _undo(self) -> list[str]:
        return list(reversed(self.active))

    def _require(self, states: tuple[S, ...], action: str) -> None:
        if self.state not in states:
            raise RolloutStateError(self.id, self.state, action)

    def _require_open(self, action: str) -> None:
        if self.state in FINAL:
            raise RolloutStateError(self.id, self.state, action)

    def _enter(self, state: S, at: datetime) -> None:
        self.state, self.entered_at = state, at

    @event(Validated)
    def _validated(self, metrics: dict[str, float], at: datetime, actor: str, correlation_id: str) -> None:
        self.evaluations["validation"] = {"metrics": metrics, "passed": True, "reason": "", "at": at}
        self._enter(S.VALIDATED, at)

    @event(Rejected)
    def _rejected(self, metrics: dict[str, float], reason: str, at: datetime, actor: str,
                  correlation_id: str) -> None:
        self.evaluations["validation"] = {"metrics": metrics, "passed": False, "reason": reason, "at": at}
        self.reason = reason
        self._enter(S.REJECTED, at)

    @event(ShadowStarted)
    def _shadow_started(self, at: datetime, actor: str, correlation_id: str) -> None:
        self.active.append("shadow")
        self._enter(S.SHADOWING, at)

    @event(ShadowEvaluated)
    def _shadow_evaluated(self, metrics: dict[str, float], passed: bool, reason: str, at: datetime,
                          actor: str, correlation_id: str) -> None:
        self.evaluations["shadow"] = {"metrics": metrics, "passed": passed, "reason": reason, "at": at}
        self._enter(S.SHADOW_EVALUATED, at)

    @event(CanaryStarted)
    def _canary_started(self, assets: list[str], at: datetime, actor: str, correlation_id: str) -> None:
        self.canary_assets = tuple(assets)
        self.active.append("canary")
        self._enter(S.CANARY, at)

    @event(CanaryEvaluated)
    def _canary_evaluated(self, metrics: dict[str, float], passed: bool, reason: str, at: datetime,
                          actor: str, correlation_id: str) -> None:
        self.evaluations["canary"] = {"metrics": metrics, "passed": passed, "reason": reason, "at": at}
        self._enter(S.CANARY_EVALUATED, at)

    @event(Promoted)
    def _promoted(self, at: datetime, actor: str, correlation_id: str) -> None:
        self._enter(S.PROMOTED, at)

    @event(RolledBack)
    def _rolled_back(self, reason: str, compensations: list[str], at: datetime, actor: str,
                     correlation_id: str) -> None:
        self.reason, self.pending_compensations = reason, list(compensations)
        self._enter(S.ROLLED_BACK, at)

    @event(Aborted)
    def _aborted(self, reason: str, compensations: list[str], at: datetime, actor: str,
                 correlation_id: str) -> None:
        self.reason, self.pending_compensations = reason, list(compensations)
        self._enter(S.ABORTED, at)

    @event(TimedOut)
    def _timed_out(self, step: str, deadline: datetime, compensations: list[str], at: datetime,
                   actor: str, correlation_id: str) -> None:
        self.reason = f"{step} exceeded its deadline {deadline.isoformat()}"
        self.pending_compensations = list(compensations)
        self._enter(S.TIMED_OUT, at)

    @event(Compensated)
    def _compensated(self, step: str, at: datetime, actor: str, correlation_id: str) -> None:
        self.pending_compensations.remove(step)
        self.active.remove(step)
