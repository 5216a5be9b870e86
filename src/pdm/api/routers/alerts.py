"""Alert commands and reads under /v1/alerts: acknowledge, resolve, suppress, inspect, audit."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import AwareDatetime

from pdm.alerting.history import alert_history
from pdm.api.routers._commands import Accepted, Body, CallerDep, DomainDep, Name, blocking
from pdm.domain.alerts import Alert

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
REFUSALS = {
    404: {"description": "unknown alert (`alert_not_found`)"},
    409: {"description": "changed since `expected_version` or by a concurrent request "
                         "(`concurrent_change`, details list the changes), or not allowed in the "
                         "alert's state (`alert_not_open`, `alert_already_resolved`, details.state)"},
}


class AlertCommand(Body):
    by: Name
    expected_version: int | None = None


class AcknowledgeBody(AlertCommand):
    note: str = ""


class ResolveBody(AlertCommand):
    resolution: str
    fault_confirmed: bool


class SuppressBody(AlertCommand):
    reason: str
    until: AwareDatetime


class AlertAccepted(Accepted):
    alert_id: UUID


@router.post("/{alert_id}/acknowledge", response_model=AlertAccepted, responses=REFUSALS)
async def acknowledge(alert_id: UUID, body: AcknowledgeBody, caller: CallerDep,
                      domain: DomainDep) -> AlertAccepted:
    position = await blocking(domain.acknowledge_alert, alert_id, body.by, body.note,
                              expected_version=body.expected_version, **caller.audit(body.by))
    return AlertAccepted(position=position, alert_id=alert_id)


@router.post("/{alert_id}/resolve", response_model=AlertAccepted, responses=REFUSALS)
async def resolve(alert_id: UUID, body: ResolveBody, caller: CallerDep, domain: DomainDep) -> AlertAccepted:
    """`fault_confirmed` is required: resolutions are the labels retraining learns from."""
    position = await blocking(domain.resolve_alert, alert_id, body.by, body.resolution, body.fault_confirmed,
                              expected_version=body.expected_version, **caller.audit(body.by))
    return AlertAccepted(position=position, alert_id=alert_id)


@router.post("/{alert_id}/suppress", response_model=AlertAccepted, responses=REFUSALS)
async def suppress(alert_id: UUID, body: SuppressBody, caller: CallerDep, domain: DomainDep) -> AlertAccepted:
    position = await blocking(domain.suppress_alert, alert_id, body.by, body.reason, body.until,
                              expected_version=body.expected_version, **caller.audit(body.by))
    return AlertAccepted(position=position, alert_id=alert_id)


@router.get("/{alert_id}", responses={404: REFUSALS[404]})
async def get_alert(alert_id: UUID, domain: DomainDep) -> dict[str, Any]:
    """Straight from the aggregate; `version` is what to send back as `expected_version`."""
    return alert_view(await blocking(domain.get_alert, alert_id))


@router.get("/{alert_id}/history", responses={404: REFUSALS[404]})
async def get_history(alert_id: UUID, domain: DomainDep) -> list[dict[str, Any]]:
    """Every event of the alert with its actor and correlation id (what `pdm audit` prints)."""
    return [entry.as_json() for entry in await blocking(alert_history, domain, alert_id)]


def alert_view(alert: Alert) -> dict[str, Any]:
    return {
        "alert_id": str(alert.id), "version": alert.version, "asset_id": alert.asset_id,
        "kind": alert.kind, "episode": alert.episode, "state": alert.state.value,
        "severity": alert.severity.value, "first_score": alert.first_score,
        "peak_score": alert.peak_score, "threshold": alert.threshold,
        "model_version": alert.model_version, "raised_at": alert.raised_at.isoformat(),
        "last_seen": alert.last_seen.isoformat(), "window_count": alert.window_count,
        "acknowledged_by": alert.acknowledged_by, "resolved_by": alert.resolved_by,
        "resolution": alert.resolution, "fault_confirmed": alert.fault_confirmed,
        "suppressed_until": alert.suppressed_until.isoformat() if alert.suppressed_until else None,
    }
