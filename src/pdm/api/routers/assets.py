"""Asset commands and reads under /v1/assets: register, record maintenance, look one up."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import AwareDatetime

from pdm.api.routers._commands import Accepted, Body, CallerDep, DomainDep, Name, blocking
from pdm.contracts.fields import AssetId, ChannelName
from pdm.domain.assets import Asset, ChannelSpec

router = APIRouter(prefix="/v1/assets", tags=["assets"])
NOT_FOUND = {404: {"description": "unknown asset (`asset_not_found`)"}}


class ChannelBody(Body):
    unit: str
    low: float | None = None
    high: float | None = None


class RegisterAssetBody(Body):
    asset_id: AssetId  # the same rule as readings': an asset registered here can report
    site: Name
    kind: Name
    channels: dict[ChannelName, ChannelBody] = {}


class RecordMaintenanceBody(Body):
    work_order_id: Name
    kind: Name
    findings: str = ""
    fault_confirmed: bool
    started_at: AwareDatetime
    ended_at: AwareDatetime


class AssetAccepted(Accepted):
    asset_id: str
    id: UUID


@router.post("", response_model=AssetAccepted,
             responses={409: {"description": "registered before with another description"}})
async def register_asset(body: RegisterAssetBody, caller: CallerDep, domain: DomainDep) -> AssetAccepted:
    """Registers, or classifies an asset that anomalies auto-registered; repeating it is a no-op."""
    channels = {name: ChannelSpec(c.unit, c.low, c.high) for name, c in body.channels.items()}
    position = await blocking(domain.register_asset, body.asset_id, body.site, body.kind, channels,
                              **caller.audit())
    return AssetAccepted(position=position, asset_id=body.asset_id, id=Asset.create_id(body.asset_id))


@router.post("/{asset_id}/maintenance", response_model=AssetAccepted,
             responses={**NOT_FOUND, 409: {"description": "work order known with other content"}})
async def record_maintenance(
    asset_id: str, body: RecordMaintenanceBody, caller: CallerDep, domain: DomainDep
) -> AssetAccepted:
    """Idempotent on the work order id; the window also silences the asset's alerts."""
    b = body
    position = await blocking(domain.record_maintenance, asset_id, b.work_order_id, b.kind, b.findings,
                              b.fault_confirmed, b.started_at, b.ended_at, **caller.audit())
    return AssetAccepted(position=position, asset_id=asset_id, id=Asset.create_id(asset_id))


@router.get("/{asset_id}", responses=NOT_FOUND)
async def get_asset(asset_id: str, domain: DomainDep) -> dict[str, Any]:
    """Straight from the aggregate (read models come with the projections of issue 6)."""
    asset = await blocking(domain.get_asset, asset_id)
    return {
        "asset_id": asset.asset_id, "id": str(asset.id), "version": asset.version,
        "site": asset.site, "kind": asset.kind, "classified": asset.classified,
        "channels": {name: asdict(spec) for name, spec in asset.channels.items()},
        "thresholds": asset.thresholds, "alert_episodes": asset.episodes,
        "maintenance": [asdict(m) for m in asset.maintenance.values()],
        "decommissioned": asset.decommissioned,
    }
