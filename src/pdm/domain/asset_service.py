"""Asset commands of the application: register, describe, maintain, decommission."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pdm.domain.assets import Asset, ChannelSpec, MaintenanceRecord
from pdm.domain.audit import Audit
from pdm.domain.errors import AssetNotFoundError
from pdm.domain.store import StoreApplication


class AssetService(StoreApplication):
    def register_asset(
        self,
        asset_id: str,
        site: str,
        kind: str,
        channels: Mapping[str, ChannelSpec],
        *,
        actor: str,
        correlation_id: str,
    ) -> int:
        """Registering an auto-registered asset classifies it; repeating it is a no-op."""
        asset = self.find(Asset.create_id(asset_id))
        if asset is None:
            asset = Asset.register(asset_id, site, kind, channels, Audit(actor, correlation_id))
        else:
            asset.classify(site, kind, channels, Audit(actor, correlation_id))
        return self.commit(asset)

    def declare_sensors(
        self,
        asset_id: str,
        channels: Mapping[str, ChannelSpec],
        *,
        actor: str,
        correlation_id: str,
        expected_version: int | None = None,
    ) -> int:
        asset = self.get_asset(asset_id, expected_version)
        asset.declare_sensors(channels, Audit(actor, correlation_id))
        return self.commit(asset)

    def change_thresholds(
        self,
        asset_id: str,
        thresholds: Mapping[str, float],
        *,
        actor: str,
        correlation_id: str,
        expected_version: int | None = None,
    ) -> int:
        asset = self.get_asset(asset_id, expected_version)
        asset.change_thresholds(thresholds, Audit(actor, correlation_id))
        return self.commit(asset)

    def record_maintenance(
        self,
        asset_id: str,
        work_order_id: str,
        kind: str,
        findings: str,
        fault_confirmed: bool,
        started_at: datetime,
        ended_at: datetime,
        *,
        actor: str,
        correlation_id: str,
    ) -> int:
        """Idempotent on the work order id, so a re-sent work order is recorded once."""
        asset = self.get_asset(asset_id)
        record = MaintenanceRecord(work_order_id, kind, findings, fault_confirmed, started_at, ended_at)
        asset.record_maintenance(record, Audit(actor, correlation_id))
        return self.commit(asset)

    def decommission_asset(
        self, asset_id: str, reason: str, at: datetime, *, actor: str, correlation_id: str
    ) -> int:
        asset = self.get_asset(asset_id)
        asset.decommission(reason, at, Audit(actor, correlation_id))
        return self.commit(asset)

    def get_asset(self, asset_id: str, expected_version: int | None = None) -> Asset:
        asset: Asset = self.load(Asset.create_id(asset_id), AssetNotFoundError, asset_id, expected_version)
        return asset
