"""PdmApplication: the command side over the event store, in memory or on PostgreSQL."""

from __future__ import annotations

from typing import Any

from eventsourcing.utils import EnvType

from pdm.domain import commands as c
from pdm.domain.alert_service import AlertService, AnomalyResult
from pdm.domain.asset_service import AssetService
from pdm.domain.model_version_service import ModelVersionService
from pdm.domain.rollout_service import RolloutService
from pdm.domain.rules import DEFAULT_POLICY, AlertPolicy

HANDLERS: dict[type[c.Command], str] = {
    c.RegisterAsset: "register_asset",
    c.DeclareSensors: "declare_sensors",
    c.ChangeThresholds: "change_thresholds",
    c.RecordMaintenance: "record_maintenance",
    c.DecommissionAsset: "decommission_asset",
    c.ApplyAnomaly: "apply_anomaly",
    c.ReportNoData: "report_no_data",
    c.AcknowledgeAlert: "acknowledge_alert",
    c.ResolveAlert: "resolve_alert",
    c.SuppressAlert: "suppress_alert",
    c.EscalateAlert: "escalate_alert",
    c.AmendAlert: "amend_alert",
    c.FireTimer: "fire_timer",
    c.CreateSilence: "create_silence",
    c.LiftSilence: "lift_silence",
    c.RecordModelTrained: "record_model_trained",
    c.ValidateModelVersion: "validate_model_version",
    c.RejectModelVersion: "reject_model_version",
    c.RetireModelVersion: "retire_model_version",
    c.StartRollout: "start_rollout",
    c.AbortRollout: "abort_rollout",
}


class PdmApplication(AssetService, AlertService, ModelVersionService, RolloutService):
    """Assets, alerts, silences and model versions; each command returns a log position.

    Persistence comes from the environment (PERSISTENCE_MODULE, POSTGRES_*); the default
    is the in-memory POPO store.
    """

    name = "pdm"

    def __init__(self, env: EnvType | None = None, policy: AlertPolicy = DEFAULT_POLICY):
        super().__init__(env)
        self.policy = policy

    def handle(self, command: c.Command) -> int | AnomalyResult:
        """One entry point for the API and CLI; the table above is the whole routing."""
        handler: Any = getattr(self, HANDLERS[type(command)])
        result: int | AnomalyResult = handler(**command.arguments())
        return result
