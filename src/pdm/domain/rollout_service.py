"""Rollout commands of the application: start, abort, and record what the saga decided."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from pdm.domain.audit import Audit
from pdm.domain.errors import (
    ConcurrentChangeError,
    RolloutConflictError,
    RolloutNotFoundError,
    RolloutSettlingError,
    RolloutStateError,
)
from pdm.domain.rollout_baseline import ServingModel
from pdm.domain.rollout_policy import RolloutPolicy, RolloutState
from pdm.domain.rollout_scope import FLEET_SCOPE, RolloutScope
from pdm.domain.rollout_steps import Record
from pdm.domain.rollouts import Rollout
from pdm.domain.store import StoreApplication

ABORT_ATTEMPTS = START_ATTEMPTS = 3


class RolloutService(StoreApplication):
    def start_rollout(
        self,
        rollout_id: UUID,
        candidate_version: str,
        candidate_hash: str,
        baseline_version: str,
        baseline_hash: str,
        policy: Mapping[str, Any],
        at: datetime,
        *,
        serving: ServingModel,
        actor: str,
        correlation_id: str,
    ) -> int:
        """Idempotent on the rollout id: the same start again adds nothing, a different one is refused.

        A new rollout's baseline must be `serving`, what serves the fleet now; the caller reads it
        (the domain does no I/O). A repeated start is not checked again: its rollout may have
        promoted its candidate since.
        """
        parsed = RolloutPolicy.from_data(policy)
        candidate, baseline = (candidate_version, candidate_hash), (baseline_version, baseline_hash)
        if candidate_hash.removeprefix("sha256:") == baseline_hash.removeprefix("sha256:"):
            raise RolloutConflictError("the candidate is the baseline: nothing to roll out")
        audit = Audit(actor, correlation_id)
        for attempt in range(START_ATTEMPTS):
            known: Rollout | None = self.find(rollout_id)
            if known is not None:
                if not known.same_start(candidate, baseline, parsed):
                    raise RolloutConflictError(f"rollout {rollout_id} was started differently")
                return self.position()
            scope = self._claim_scope(rollout_id, at, audit, serving)
            serving.require_baseline(*baseline)
            rollout = Rollout(rollout_id, *candidate, *baseline, parsed.as_data(), at=at, **audit.fields)
            try:
                return self.commit(rollout, scope)
            except ConcurrentChangeError:  # another start claimed the scope first: look again
                if attempt == START_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _claim_scope(self, rollout_id: UUID, at: datetime, audit: Audit,
                     serving: ServingModel) -> RolloutScope:
        """Refused while the scope's holder is not finished (RolloutActiveError names it), or is
        promoted while `serving` is not yet its candidate (RolloutSettlingError)."""
        scope: RolloutScope | None = self.find(RolloutScope.create_id(FLEET_SCOPE))
        if scope is None:
            scope = RolloutScope(FLEET_SCOPE, at=at, **audit.fields)
        holder: Rollout | None = self.find(scope.holder) if scope.holder else None
        promoted = holder is not None and holder.state is RolloutState.PROMOTED
        if holder is not None and promoted and not serving.is_model(*holder.candidate):
            raise RolloutSettlingError(holder.id, scope.scope, holder.candidate)
        scope.claim(rollout_id, holder is None or holder.finished, at, audit)
        return scope

    def abort_rollout(self, rollout_id: UUID, reason: str, at: datetime, *, actor: str,
                      correlation_id: str) -> int:
        """Retried on a lost race with the saga, which records steps on the same rollout."""
        for attempt in range(ABORT_ATTEMPTS):
            rollout = self.get_rollout(rollout_id)
            rollout.abort(reason, at, Audit(actor, correlation_id))
            try:
                return self.commit(rollout)
            except ConcurrentChangeError:
                if attempt == ABORT_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def record_rollout_step(self, instruction: Record, at: datetime, *, actor: str,
                            correlation_id: str) -> int:
        """The saga's decisions, as `next_step` gave them; a stale one is refused by the aggregate."""
        rollout = self.get_rollout(instruction.rollout_id)
        audit = Audit(actor, correlation_id)
        apply_record(rollout, instruction, at, audit)
        return self.commit(rollout)

    def get_rollout(self, rollout_id: UUID) -> Rollout:
        rollout: Rollout = self.load(rollout_id, RolloutNotFoundError)
        return rollout


def apply_record(rollout: Rollout, instruction: Record, at: datetime, audit: Audit) -> None:
    """Separate from the service so unit tests drive the aggregate with `next_step` alone."""
    action, verdict = instruction.action, instruction.verdict
    if action == "validate" and verdict is not None:
        rollout.record_validation(verdict, at, audit)
    elif action == "start_shadow":
        rollout.start_shadow(at, audit)
    elif action == "evaluate_shadow" and verdict is not None:
        rollout.record_shadow_evaluation(verdict, at, audit)
    elif action == "start_canary":
        rollout.start_canary(instruction.assets, at, audit)
    elif action == "evaluate_canary" and verdict is not None:
        rollout.record_canary_evaluation(verdict, at, audit)
    elif action == "promote":
        rollout.promote(at, audit)
    elif action == "roll_back":
        rollout.roll_back(instruction.reason, at, audit)
    elif action == "time_out":
        rollout.time_out(at, audit)
    elif action == "compensate":
        rollout.compensate(instruction.step, at, audit)
    else:
        raise RolloutStateError(rollout.id, rollout.state, action)
