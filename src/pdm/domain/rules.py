"""Alert rules as pure functions: severity, re-notification, escalation and no-data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pdm.domain.alerts import Alert, AlertState, Severity

NO_DATA_KIND = "no_data"


@dataclass(frozen=True)
class AlertPolicy:
    """Tunable per deployment; every rule below takes it so tests can shrink the clock."""

    critical_ratio: float = 1.5
    escalate_after: timedelta = timedelta(minutes=10)
    renotify_every: timedelta = timedelta(minutes=30)
    escalate_unacknowledged_after: timedelta = timedelta(hours=1)
    no_data_after: timedelta = timedelta(minutes=15)


DEFAULT_POLICY = AlertPolicy()


def is_anomalous(score: float, threshold: float) -> bool:
    return score >= threshold


def severity_for(
    score: float, threshold: float, duration: timedelta, policy: AlertPolicy = DEFAULT_POLICY
) -> Severity:
    """Far above threshold starts critical; staying above for `escalate_after` adds a level."""
    base = Severity.CRITICAL if score >= threshold * policy.critical_ratio else Severity.WARNING
    return base.raised() if duration >= policy.escalate_after else base


def episode_severity(alert: Alert, policy: AlertPolicy = DEFAULT_POLICY) -> Severity:
    """Severity the episode has earned so far, from its peak score and its duration."""
    return severity_for(alert.peak_score, alert.threshold, alert.last_seen - alert.raised_at, policy)


def needs_attention(alert: Alert, t: datetime) -> bool:
    """Unacknowledged and not muted: the only alerts that are re-sent or escalated."""
    if alert.state == AlertState.OPEN:
        return True
    return alert.state == AlertState.SUPPRESSED and not alert.is_muted(t)


def next_renotify_at(alert: Alert, policy: AlertPolicy = DEFAULT_POLICY) -> datetime | None:
    """When an unacknowledged alert is sent again; a suppression pushes it to its end."""
    if alert.state not in (AlertState.OPEN, AlertState.SUPPRESSED):
        return None
    due = alert.notified_at[-1] + policy.renotify_every
    if alert.state == AlertState.SUPPRESSED and alert.suppressed_until is not None:
        due = max(due, alert.suppressed_until)
    return due


def unacknowledged_escalations(alert: Alert) -> int:
    return sum(1 for key in alert.fired_timer_keys if "/escalate/" in key)


def next_escalation_at(alert: Alert, policy: AlertPolicy = DEFAULT_POLICY) -> datetime | None:
    """Each further `escalate_unacknowledged_after` without an acknowledgement adds a level."""
    if alert.state not in (AlertState.OPEN, AlertState.SUPPRESSED):
        return None
    if alert.severity.raised() == alert.severity:
        return None
    steps = unacknowledged_escalations(alert) + 1
    return alert.raised_at + policy.escalate_unacknowledged_after * steps


def is_no_data(last_reading_at: datetime | None, now: datetime, policy: AlertPolicy = DEFAULT_POLICY) -> bool:
    """Only an asset that was reporting can go silent; a never-seen asset is not 'no data'."""
    if last_reading_at is None:
        return False
    return now - last_reading_at >= policy.no_data_after
