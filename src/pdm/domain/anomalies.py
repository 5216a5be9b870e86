"""What one anomaly does to an asset's alerts: raise, update, escalate or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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

# A historical alert stays suppressed: it is a record of the past, never due to be paged.
HISTORICAL_UNTIL = datetime(9999, 1, 1, tzinfo=UTC)
HISTORICAL_BY, HISTORICAL_REASON = "backfill", "historical"


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
    *,
    historical: bool = False,
) -> AnomalyDecision:
    """`latest` is the alert of the asset's current episode for this kind, if any.

    A `historical` anomaly (older than the page horizon) that opens an episode is raised
    already suppressed; one that updates an open episode changes nothing about paging."""
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
    return _raise(asset, anomaly, threshold, silences, audit, policy, historical)


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
    historical: bool,
) -> AnomalyDecision:
    """A new episode; raised already suppressed (in the same save, so nobody is paged in
    between) when a silence or maintenance covers it, or when it is history."""
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
    suppression = _suppression(asset, anomaly, silences, historical)
    if suppression is not None:
        alert.suppress(*suppression, audit)
    return AnomalyDecision(AnomalyOutcome.RAISED, alert, (asset, alert))


def _suppression(
    asset: Asset, anomaly: Anomaly, silences: Sequence[Silence], historical: bool
) -> tuple[str, str, datetime] | None:
    """(by, reason, until); a silence wins over history, as it names who muted it and why."""
    every = [*silences, *maintenance_silences(asset.asset_id, asset.maintenance.values())]
    silence = matching_silence(asset.asset_id, asset.site, anomaly.detected_at, every)
    if silence is not None:
        return f"silence:{silence.silence_id}", silence.reason, silence.ends_at
    if historical:
        return HISTORICAL_BY, HISTORICAL_REASON, HISTORICAL_UNTIL
    return None
