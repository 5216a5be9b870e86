"""Commands: imperative, validated, frozen intents; never reused as events or wire types."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from pdm.domain.alerts import Severity
from pdm.domain.assets import ChannelSpec
from pdm.domain.model_versions import Lineage
from pdm.domain.rollout_baseline import ServingModel
from pdm.domain.rollout_policy import DEFAULT_ROLLOUT_POLICY
from pdm.domain.silences import SilenceScope
from pdm.domain.timers import Timer

Name = Annotated[str, Field(min_length=1, max_length=200)]


class Command(BaseModel):
    """Every command names who asked and what it follows from, for the audit trail."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor: Name
    correlation_id: Name

    def arguments(self) -> dict[str, Any]:
        """Field values as-is (nested values stay typed), keyed like the handler's params."""
        return {name: getattr(self, name) for name in type(self).model_fields}


class RegisterAsset(Command):
    asset_id: Name
    site: Name
    kind: Name
    channels: dict[str, ChannelSpec] = Field(default_factory=dict)


class DeclareSensors(Command):
    asset_id: Name
    channels: dict[str, ChannelSpec]
    expected_version: int | None = None


class ChangeThresholds(Command):
    asset_id: Name
    thresholds: dict[str, float]
    expected_version: int | None = None


class RecordMaintenance(Command):
    asset_id: Name
    work_order_id: Name
    kind: Name
    findings: str
    fault_confirmed: bool
    started_at: AwareDatetime
    ended_at: AwareDatetime


class DecommissionAsset(Command):
    asset_id: Name
    reason: str
    at: AwareDatetime


class ApplyAnomaly(Command):
    anomaly_id: Name
    asset_id: Name
    kind: Name
    score: float
    threshold: float = Field(gt=0)
    model_version: Name
    detected_at: AwareDatetime
    historical: bool = False


class ReportNoData(Command):
    asset_id: Name
    last_reading_at: AwareDatetime
    at: AwareDatetime


class AcknowledgeAlert(Command):
    alert_id: UUID
    by: Name
    note: str = ""
    expected_version: int | None = None


class ResolveAlert(Command):
    alert_id: UUID
    by: Name
    resolution: str
    fault_confirmed: bool
    expected_version: int | None = None


class SuppressAlert(Command):
    alert_id: UUID
    by: Name
    reason: str
    until: AwareDatetime
    expected_version: int | None = None


class EscalateAlert(Command):
    alert_id: UUID
    severity: Severity
    reason: str
    expected_version: int | None = None


class AmendAlert(Command):
    alert_id: UUID
    corrections: dict[str, float | str]
    reason: str


class FireTimer(Command):
    timer: Timer
    now: AwareDatetime


class CreateSilence(Command):
    scope: SilenceScope
    target: Name
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: str
    by: Name
    silence_id: str | None = None


class LiftSilence(Command):
    scope: SilenceScope
    target: Name
    silence_id: Name
    by: Name


class RecordModelTrained(Command):
    artifact_hash: Name
    algorithm: Name
    parameters: dict[str, Any]
    training_from: AwareDatetime
    training_to: AwareDatetime
    feature_set_version: Name
    metrics: dict[str, float]
    lineage: Lineage


class ValidateModelVersion(Command):
    artifact_hash: Name
    metrics: dict[str, float]


class RejectModelVersion(Command):
    artifact_hash: Name
    metrics: dict[str, float]
    reason: str


class RetireModelVersion(Command):
    artifact_hash: Name
    reason: str


class StartRollout(Command):
    rollout_id: UUID
    candidate_version: Name
    candidate_hash: Annotated[str, Field(pattern=r"^(sha256:)?[0-9a-f]{64}$")]
    baseline_version: Name
    baseline_hash: Annotated[str, Field(pattern=r"^(sha256:)?[0-9a-f]{64}$")]
    policy: dict[str, Any] = Field(default_factory=DEFAULT_ROLLOUT_POLICY.as_data)
    at: AwareDatetime
    serving: ServingModel = Field(description='what serves "*" now, as the caller read it')


class AbortRollout(Command):
    rollout_id: UUID
    reason: str
    at: AwareDatetime
