"""Model-version verdicts and reads under /v1/models: validate, reject, retire, look one up.

Recording a trained model is the trainer's job (`pdm retrain`), not an HTTP call: the artifact
and its hash must exist before the event does.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from pdm.alerting.history import plain
from pdm.api.routers._commands import Accepted, Body, CallerDep, DomainDep, blocking

router = APIRouter(prefix="/v1/models", tags=["models"])
REFUSALS = {404: {"description": "unknown artifact hash (`model_version_not_found`)"},
            409: {"description": "not allowed in its state (`model_version_state`)"}}


class ValidateBody(Body):
    metrics: dict[str, float]


class RejectBody(Body):
    metrics: dict[str, float]
    reason: str


class RetireBody(Body):
    reason: str


class ModelAccepted(Accepted):
    artifact_hash: str


@router.post("/{artifact_hash}/validate", response_model=ModelAccepted, responses=REFUSALS)
async def validate(artifact_hash: str, body: ValidateBody, caller: CallerDep,
                   domain: DomainDep) -> ModelAccepted:
    position = await blocking(domain.validate_model_version, artifact_hash, body.metrics, **caller.audit())
    return ModelAccepted(position=position, artifact_hash=artifact_hash)


@router.post("/{artifact_hash}/reject", response_model=ModelAccepted, responses=REFUSALS)
async def reject(artifact_hash: str, body: RejectBody, caller: CallerDep,
                 domain: DomainDep) -> ModelAccepted:
    position = await blocking(domain.reject_model_version, artifact_hash, body.metrics, body.reason,
                              **caller.audit())
    return ModelAccepted(position=position, artifact_hash=artifact_hash)


@router.post("/{artifact_hash}/retire", response_model=ModelAccepted, responses=REFUSALS)
async def retire(artifact_hash: str, body: RetireBody, caller: CallerDep,
                 domain: DomainDep) -> ModelAccepted:
    """Retiring twice is a no-op that answers the current position."""
    position = await blocking(domain.retire_model_version, artifact_hash, body.reason, **caller.audit())
    return ModelAccepted(position=position, artifact_hash=artifact_hash)


@router.get("/{artifact_hash}", responses={404: REFUSALS[404]})
async def get_model(artifact_hash: str, domain: DomainDep) -> dict[str, Any]:
    """Straight from the aggregate: its training record, lineage and verdict."""
    model = await blocking(domain.get_model_version, artifact_hash)
    return {"id": str(model.id), "version": model.version, "state": model.state.value,
            "record": plain(asdict(model.record)), "backtest_metrics": model.backtest_metrics,
            "verdict_reason": model.verdict_reason}
