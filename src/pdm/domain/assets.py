"""The Asset aggregate: a monitored machine, its sensors, thresholds and maintenance."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from pdm.domain.asset_values import (
    UNCLASSIFIED,
    Channels,
    ChannelSpec,
    MaintenanceRecord,
    channels_as_data,
)
from pdm.domain.audit import Audit
from pdm.domain.errors import (
    AssetAlreadyRegisteredError,
    AssetDecommissionedError,
    InvalidMaintenanceWindowError,
    InvalidThresholdError,
    WorkOrderConflictError,
)

__all__ = ["UNCLASSIFIED", "Asset", "ChannelSpec", "MaintenanceRecord"]


class Asset(Aggregate):
    """A monitored machine; also the keeper of alert episode numbers per alert kind."""

    class Event(Aggregate.Event):
        actor: str
        correlation_id: str

    class Registered(Event, Aggregate.Created):
        asset_id: str
        site: str
        kind: str
        channels: dict[str, dict[str, Any]]
        classified: bool

    class Classified(Event):
        site: str
        kind: str

    class SensorsDeclared(Event):
        channels: dict[str, dict[str, Any]]

    class ThresholdsChanged(Event):
        thresholds: dict[str, float]

    class MaintenanceRecorded(Event):
        work_order_id: str
        kind: str
        findings: str
        fault_confirmed: bool
        started_at: datetime
        ended_at: datetime

    class Decommissioned(Event):
        reason: str
        decommissioned_at: datetime

    class AlertEpisodeStarted(Event):
        alert_kind: str
        episode: int

    @staticmethod
    def create_id(asset_id: str) -> UUID:
        """Deterministic, so two workers auto-registering one asset collide instead of forking."""
        return uuid5(NAMESPACE_URL, f"/pdm/assets/{asset_id}")

    def __init__(
        self,
        asset_id: str,
        site: str,
        kind: str,
        channels: dict[str, dict[str, Any]],
        classified: bool,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.asset_id, self.site, self.kind = asset_id, site, kind
        self.classified = classified
        self.channels: dict[str, ChannelSpec] = {}
        self._merge_channels(channels)
        self.thresholds: dict[str, float] = {}
        self.maintenance: dict[str, MaintenanceRecord] = {}
        self.episodes: dict[str, int] = {}
        self.decommissioned = False

    @classmethod
    def register(cls, asset_id: str, site: str, kind: str, channels: Channels, audit: Audit) -> Asset:
        data = channels_as_data(channels)
        return cls(asset_id, site, kind, data, True, **audit.fields)

    @classmethod
    def register_unclassified(cls, asset_id: str, audit: Audit) -> Asset:
        """Readings for an unknown asset must not be lost; an operator classifies it later."""
        return cls(asset_id, UNCLASSIFIED, UNCLASSIFIED, {}, False, **audit.fields)

    def classify(self, site: str, kind: str, channels: Channels, audit: Audit) -> None:
        """Registering a known asset again: classifies it once, is a no-op if identical."""
        self._require_active()
        if self.classified:
            if (site, kind) != (self.site, self.kind) or not self._has_channels(channels):
                raise AssetAlreadyRegisteredError(self.asset_id)
            return
        self._classified(site, kind, **audit.fields)
        self.declare_sensors(channels, audit)

    def declare_sensors(self, channels: Channels, audit: Audit) -> None:
        self._require_active()
        if not self._has_channels(channels):
            self._sensors_declared(channels_as_data(channels), **audit.fields)

    def change_thresholds(self, thresholds: Mapping[str, float], audit: Audit) -> None:
        self._require_active()
        for alert_kind, value in thresholds.items():
            if not (math.isfinite(value) and value > 0):
                raise InvalidThresholdError(f"{alert_kind}: threshold must be positive")
        if any(self.thresholds.get(k) != v for k, v in thresholds.items()):
            self._thresholds_changed(dict(thresholds), **audit.fields)

    def record_maintenance(self, record: MaintenanceRecord, audit: Audit) -> bool:
        """Idempotent on the work order id; returns whether anything was recorded."""
        self._require_active()
        if record.ended_at < record.started_at:
            raise InvalidMaintenanceWindowError("maintenance ends before it starts")
        known = self.maintenance.get(record.work_order_id)
        if known is not None:
            if known != record:
                raise WorkOrderConflictError(record.work_order_id)
            return False
        r = record
        self._maintenance_recorded(
            r.work_order_id,
            r.kind,
            r.findings,
            r.fault_confirmed,
            r.started_at,
            r.ended_at,
            **audit.fields,
        )
        return True

    def decommission(self, reason: str, at: datetime, audit: Audit) -> bool:
        if self.decommissioned:
            return False
        self._decommissioned(reason, at, **audit.fields)
        return True

    def current_episode(self, alert_kind: str) -> int:
        """0 until the first alert of that kind; the latest episode after."""
        return self.episodes.get(alert_kind, 0)

    def start_episode(self, alert_kind: str, audit: Audit) -> int:
        """Bumps this aggregate's version, so two writers opening one episode conflict."""
        self._require_active()
        episode = self.current_episode(alert_kind) + 1
        self._alert_episode_started(alert_kind, episode, **audit.fields)
        return episode

    def threshold_for(self, alert_kind: str, default: float) -> float:
        return self.thresholds.get(alert_kind, default)

    def _require_active(self) -> None:
        if self.decommissioned:
            raise AssetDecommissionedError(self.asset_id)

    def _has_channels(self, channels: Channels) -> bool:
        return all(self.channels.get(name) == spec for name, spec in channels.items())

    def _merge_channels(self, channels: Mapping[str, Mapping[str, Any]]) -> None:
        for name, data in channels.items():
            self.channels[name] = ChannelSpec.from_dict(data)

    @event(Classified)
    def _classified(self, site: str, kind: str, actor: str, correlation_id: str) -> None:
        self.site, self.kind, self.classified = site, kind, True

    @event(SensorsDeclared)
    def _sensors_declared(self, channels: dict[str, dict[str, Any]], actor: str, correlation_id: str) -> None:
        self._merge_channels(channels)

    @event(ThresholdsChanged)
    def _thresholds_changed(self, thresholds: dict[str, float], actor: str, correlation_id: str) -> None:
        self.thresholds.update(thresholds)

    @event(MaintenanceRecorded)
    def _maintenance_recorded(
        self,
        work_order_id: str,
        kind: str,
        findings: str,
        fault_confirmed: bool,
        started_at: datetime,
        ended_at: datetime,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.maintenance[work_order_id] = MaintenanceRecord(
            work_order_id, kind, findings, fault_confirmed, started_at, ended_at
        )

    @event(Decommissioned)
    def _decommissioned(
        self, reason: str, decommissioned_at: datetime, actor: str, correlation_id: str
    ) -> None:
        self.decommissioned = True

    @event(AlertEpisodeStarted)
    def _alert_episode_started(self, alert_kind: str, episode: int, actor: str, correlation_id: str) -> None:
        self.episodes[alert_kind] = episode
