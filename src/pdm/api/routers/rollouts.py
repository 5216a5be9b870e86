"""Model rollouts under /v1/rollouts: start one, read it, abort it. The saga process does the rest."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from psycopg.rows import dict_row
from pydantic import Field

from pdm.alerting.history import plain
from pdm.api.deps import get_settings
from pdm.api.errors import ApiError
from pdm.api.routers._commands import Accepted, Body, CallerDep, DomainDep, Name, blocking
from pdm.api.routers._reads import After, ReadsDep, after_responses, wait_for
from pdm.domain.errors import (
    BaselineNotServingError,
    InvalidRolloutPolicyError,
    RolloutActiveError,
    RolloutConflictError,
    RolloutSettlingError,
    RolloutStateError,
)
from pdm.domain.rollout_policy import RolloutPolicy, RolloutState
from pdm.domain.rollouts import Rollout
from pdm.infra.broker import BrokerUnavailableError
from pdm.rollout.rows import COLUMNS
from pdm.rollout.serving import fleet_serving
from pdm.rollout.view import rollout_view
from pdm.settings import Settings

router = APIRouter(prefix="/v1/rollouts", tags=["rollouts"])
LIST_ROLLOUTS = (f"SELECT {', '.join(COLUMNS)} FROM rm_rollouts WHERE %(state)s::text IS NULL "
                 "OR state = %(state)s ORDER BY started_at DESC, rollout_id LIMIT %(limit)s")
Hash = Annotated[str, Field(pattern=r"^(sha256:)?[0-9a-f]{64}$")]
REFUSALS: dict[int | str, dict[str, Any]] = {404: {"description": "unknown rollout (`rollout_not_found`)"},
            409: {"description": "not allowed in its state (`rollout_state`, `rollout_conflict`), or "
                         "another rollout is active (`rollout_active`, details name it)"},
            422: {"description": "bad body or policy (`invalid_rollout_policy`)"}}
START_REFUSALS: dict[int | str, dict[str, Any]] = {
    409: {"description": "`rollout_conflict` (same id, another start; or the candidate is the baseline), "
                         "`rollout_active` (another rollout is not finished; details name it), "
                         "`rollout_settling` (the last rollout is promoted and the saga has not yet "
                         "published its candidate as `\"*\"`; retry after Retry-After), or "
                         "`baseline_not_serving` (the baseline is not what serves the fleet, `\"*\"`, now; "
                         "`details.serving` and `details.baseline` name both)"},
    422: REFUSALS[422],
    503: {"description": "`broker_unavailable`: pdm.deployments.v1 could not be read, so the baseline "
                         "could not be checked; nothing was recorded, retry after Retry-After"}}
SETTLING_RETRY_AFTER_S = "2"  # the saga publishes `"*"` on the tick that recorded `Promoted`
REFUSED_STARTS = (InvalidRolloutPolicyError, RolloutConflictError, RolloutActiveError,
                  BaselineNotServingError)


class StartBody(Body):
    candidate_version: Name
    candidate_hash: Hash
    baseline_version: Name
    baseline_hash: Hash
    policy: dict[str, Any] = Field(default_factory=dict, description="RolloutPolicy fields to override")
    rollout_id: UUID | None = Field(None, description="default: derived from X-Correlation-ID")


class AbortBody(Body):
    reason: str = "aborted by an operator"
    by: str | None = None


class RolloutAccepted(Accepted):
    rollout_id: UUID


@router.post("", response_model=RolloutAccepted, status_code=202, responses=START_REFUSALS)
async def start(body: StartBody, caller: CallerDep, domain: DomainDep,
                settings: Annotated[Settings, Depends(get_settings)]) -> RolloutAccepted:
    """Records `Started`; repeating the same request (same id) is a no-op. 202: the saga proceeds.

    The baseline must be what serves `"*"` now, read from pdm.deployments.v1 at every start."""
    rollout_id = body.rollout_id or Rollout.id_for(body.candidate_hash, caller.correlation_id)
    try:
        policy = RolloutPolicy.from_data(body.policy).as_data()
        serving = await fleet_serving(settings.kafka)
        position = await blocking(domain.start_rollout, rollout_id, body.candidate_version,
                                  body.candidate_hash, body.baseline_version, body.baseline_hash, policy,
                                  datetime.now(UTC), serving=serving, **caller.audit())
    except REFUSED_STARTS as exc:
        raise _refusal(exc) from None
    except BrokerUnavailableError as exc:
        raise ApiError(503, "broker_unavailable", str(exc), headers={"Retry-After": "5"}) from None
    return RolloutAccepted(position=position, rollout_id=rollout_id)


@router.get("", responses=after_responses())
async def list_rollouts(reads: ReadsDep, after: After = None, state: RolloutState | None = None,
                        limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
    """Newest first, from the rollouts read model: state, candidate, baseline and each step's metrics."""
    async with reads.connection() as conn:
        await wait_for(conn, "rollouts", after)
        cursor = conn.cursor(row_factory=dict_row)
        await cursor.execute(LIST_ROLLOUTS, {"state": state and state.value, "limit": limit})
        return {"items": [plain(row) for row in await cursor.fetchall()]}


@router.get("/{rollout_id}", responses={404: REFUSALS[404]})
async def get_rollout(rollout_id: UUID, domain: DomainDep) -> dict[str, Any]:
    rollout = await blocking(domain.get_rollout, rollout_id)
    return await blocking(rollout_view, domain, rollout)


@router.post("/{rollout_id}/abort", response_model=RolloutAccepted, responses=REFUSALS)
async def abort(rollout_id: UUID, body: AbortBody, caller: CallerDep, domain: DomainDep) -> RolloutAccepted:
    """Records `Aborted`; the saga then withdraws whatever is live. Aborting twice is a no-op."""
    try:
        position = await blocking(domain.abort_rollout, rollout_id, body.reason, datetime.now(UTC),
                                  **caller.audit(body.by))
    except RolloutStateError as exc:
        raise ApiError(409, exc.code, str(exc), {"id": str(rollout_id), "state": str(exc.state),
                                                 "action": exc.action}) from None
    return RolloutAccepted(position=position, rollout_id=rollout_id)


def _refusal(exc: InvalidRolloutPolicyError | RolloutConflictError | RolloutActiveError
             | BaselineNotServingError) -> ApiError:
    """Here rather than in the shared error table: 409 for a conflicting start, 422 for a bad policy."""
    if isinstance(exc, InvalidRolloutPolicyError):
        return ApiError(422, exc.code, str(exc))
    details: dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    if isinstance(exc, RolloutActiveError):
        details = {"active_rollout_id": str(exc.active_rollout_id), "scope": exc.scope}
    if isinstance(exc, RolloutSettlingError):
        details = {**(details or {}), "promoted": _model(exc.promoted)}
        headers = {"Retry-After": SETTLING_RETRY_AFTER_S}
    elif isinstance(exc, BaselineNotServingError):
        details = {"serving": _model(exc.serving), "baseline": _model(exc.baseline)}
    return ApiError(409, exc.code, str(exc), details, headers=headers)


def _model(named: tuple[str, str | None]) -> dict[str, str | None]:
    """Shaped as a rollout's `candidate` and `baseline`; a null hash is the built-in model."""
    return {"model_version": named[0], "artifact_hash": named[1]}
