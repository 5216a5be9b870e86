"""What one anomaly does to an asset's alerts: raise, update, escalate or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate

from pdm.domain.alerts import Alert
from pdm.domain.assets import Asset
from pdm.domain.audit import Audit
from pdm.domain.rules import (
    DEFAULT_POLICY,
    AlertPolicy,
    episode_severity,
    is_anomalous,
    severity_for,
)
from pdm.domain.silences import Silence, maintenance_silences, matching_silence


@dataclass(frozen=True)
class Anomaly:
    """An anomaly as the scorer reports it; `detected_at` is the reading's event time."""

    anomaly_id: str
    asset_id: str
    kind: str
    score: float
    threshold: float
    model_version: str
    detected_at: datetime


class AnomalyOutcome(StrEnum):
    RAISED = "raised"
    UPDATED = "updated"
    ESCALATED = "escalated"
    DUPLICATE = "duplicate"
    STALE = "stale"
    BELOW_THRESHOLD = "below_threshold"
    ASSET_DECOMMISSIONED = "asset_decommissioned"


@dataclass(frozen=True)
class AnomalyDecision:
    """The outcome plus the aggregates whose pending events must be saved together."""

    outcome: AnomalyOutcome
    alert: Alert | None = None
    changed: Sequence[Aggregate] = field(default_factory=tuple)

    @property
    def alert_id(self) -> UUID | None:
        return None if self.alert is None else self.alert.id


def decide_anomaly(
    asset: Asset,
    latest: Alert | None,
    anomaly: Anomaly,
    silences: Sequence[Silence],
    audit: Audit,
    policy: AlertPolicy = DEFAULT_POLICY,
) -> AnomalyDecision:
    """`latest` is the alert of the asset's current episode for this kind, if any."""
    if asset.decommissioned:
        return AnomalyDecision(AnomalyOutcome.ASSET_DECOMMISSIONED)
    if latest is not None and latest.has_seen(anomaly.anomaly_id):
        return AnomalyDecision(AnomalyOutcome.DUPLICATE, latest)
    threshold = asset.threshold_for(anomaly.kind, anomaly.threshold)
    if not is_anomalous(anomaly.score, threshold):
        return AnomalyDecision(AnomalyOutcome.BELOW_THRESHOLD, latest)
    if latest is not None and not latest.is_resolved:
        return _update(latest, anomaly, audit, policy)
    if latest is not None and anomaly.detected_at <= latest.last_seen:
        return AnomalyDecision(AnomalyOutcome.STALE, latest)
    return _raise(asset, anomaly, threshold, silences, audit, policy)


def _update(alert: Alert, anomaly: Anomaly, audit: Audit, policy: AlertPolicy) -> AnomalyDecision:
    """Staying anomalous long enough earns a higher severity: escalate in the same save."""
    alert.record_anomaly(anomaly.anomaly_id, anomaly.score, anomaly.detected_at, audit)
    earned = episode_severity(alert, policy)
    if earned.rank <= alert.severity.rank:
        return AnomalyDecision(AnomalyOutcome.UPDATED, alert, (alert,))
    reason = (
        f"peak score {alert.peak_score:g} against threshold {alert.threshold:g} "
        f"over {alert.last_seen - alert.raised_at}"
    )
    alert.escalate(earned, reason, audit)
    return AnomalyDecision(AnomalyOutcome.ESCALATED, alert, (alert,))


def _raise(
    asset: Asset,
    anomaly: Anomaly,
    threshold: float,
    silences: Sequence[Silence],
    audit: Audit,
    policy: AlertPolicy,
) -> AnomalyDecision:
    """A new episode; raised already suppressed when a silence or maintenance covers it."""
    episode = asset.start_episode(anomaly.kind, audit)
    severity = severity_for(anomaly.score, threshold, timedelta(0), policy)
    alert = Alert(
        asset.asset_id,
        anomaly.kind,
        episode,
        severity,
        anomaly.score,
        threshold,
        anomaly.model_version,
        anomaly.detected_at,
        anomaly.anomaly_id,
        **audit.fields,
    )
    every = [*silences, *maintenance_silences(asset.asset_id, asset.maintenance.values())]
    silence = matching_silence(asset.asset_id, asset.site, anomaly.detected_at, every)
    if silence is not None:
        by = f"silence:{silence.silence_id}"
        alert.suppress(by, silence.reason, silence.ends_at, audit)
    return AnomalyDecision(AnomalyOutcome.RAISED, alert, (asset, alert))
