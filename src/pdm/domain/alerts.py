"""The Alert aggregate: one abnormal episode of one asset, from first anomaly to resolution."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from pdm.domain.alert_values import AMENDABLE, UNACKNOWLEDGED, AlertState, Severity
from pdm.domain.audit import Audit
from pdm.domain.errors import (
    AlertAlreadyResolvedError,
    AlertNotOpenError,
    InvalidAmendmentError,
    SeverityNotHigherError,
)

__all__ = ["Alert", "AlertState", "Severity"]


class Alert(Aggregate):
    """One abnormal episode of one asset, from first anomaly to resolution."""

    class Event(Aggregate.Event):
        actor: str
        correlation_id: str

    class Raised(Event, Aggregate.Created):
        asset_id: str
        kind: str
        episode: int
        severity: str
        first_score: float
        threshold: float
        model_version: str
        raised_at: datetime  # event time of the reading, not the server clock
        anomaly_id: str

    class Updated(Event):
        anomaly_id: str
        score: float
        peak_score: float
        window_count: int
        last_seen: datetime

    class Escalated(Event):
        severity: str
        reason: str
        timer_key: str

    class Renotified(Event):
        timer_key: str
        notified_at: datetime

    class Acknowledged(Event):
        by: str
        note: str

    class Resolved(Event):
        by: str
        resolution: str
        fault_confirmed: bool | None  # None only for resolutions stored before it was asked

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 never asked whether a fault was found: unknown, not 'no'."""
            state["fault_confirmed"] = None

    class Suppressed(Event):
        by: str
        reason: str
        until: datetime

    class Amended(Event):
        corrections: dict[str, Any]
        reason: str

    @staticmethod
    def create_id(asset_id: str, kind: str, episode: int) -> UUID:
        """Deterministic, so a redelivered anomaly cannot open a second alert."""
        return uuid5(NAMESPACE_URL, f"/pdm/alerts/{asset_id}/{kind}/{episode}")

    def __init__(
        self,
        asset_id: str,
        kind: str,
        episode: int,
        severity: str,
        first_score: float,
        threshold: float,
        model_version: str,
        raised_at: datetime,
        anomaly_id: str,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.asset_id, self.kind, self.episode = asset_id, kind, episode
        self.state, self.severity = AlertState.OPEN, Severity(severity)
        self.first_score = self.peak_score = first_score
        self.threshold, self.model_version = threshold, model_version
        self.raised_at = self.last_seen = raised_at
        self.window_count = 1
        self.anomaly_ids: list[str] = [anomaly_id]
        self.fired_timer_keys: list[str] = []
        self.notified_at: list[datetime] = [raised_at]
        self.acknowledged_by: str | None = None
        self.resolved_by: str | None = None
        self.resolution: str | None = None
        self.fault_confirmed: bool | None = None
        self.suppressed_until: datetime | None = None

    @property
    def is_resolved(self) -> bool:
        return self.state == AlertState.RESOLVED

    def has_seen(self, anomaly_id: str) -> bool:
        return anomaly_id in self.anomaly_ids

    def is_muted(self, t: datetime) -> bool:
        """Suppressed and not yet past `until`: a lapsed suppression needs attention again."""
        if self.state != AlertState.SUPPRESSED or self.suppressed_until is None:
            return False
        return t < self.suppressed_until

    def record_anomaly(self, anomaly_id: str, score: float, seen_at: datetime, audit: Audit) -> bool:
        """Idempotent on the anomaly id: Kafka delivers at least once."""
        if self.has_seen(anomaly_id):
            return False
        self._require_unresolved("update")
        peak, last = max(self.peak_score, score), max(self.last_seen, seen_at)
        self._updated(anomaly_id, score, peak, self.window_count + 1, last, **audit.fields)
        return True

    def escalate(self, severity: Severity, reason: str, audit: Audit, timer_key: str = "") -> bool:
        """Idempotent on a non-empty timer key, so a timer that fires twice escalates once."""
        if timer_key and timer_key in self.fired_timer_keys:
            return False
        self._require_unresolved("escalate")
        if severity.rank <= self.severity.rank:
            raise SeverityNotHigherError(f"{severity} is not above {self.severity}")
        self._escalated(severity.value, reason, timer_key, **audit.fields)
        return True

    def renotify(self, timer_key: str, at: datetime, audit: Audit) -> bool:
        if timer_key in self.fired_timer_keys:
            return False
        if self.state not in UNACKNOWLEDGED or self.is_muted(at):
            raise AlertNotOpenError(self.id, self.state, "re-notify")
        self._renotified(timer_key, at, **audit.fields)
        return True

    def acknowledge(self, by: str, note: str, audit: Audit) -> None:
        if self.state not in UNACKNOWLEDGED:
            raise AlertNotOpenError(self.id, self.state, "acknowledge")
        self._acknowledged(by, note, **audit.fields)

    def resolve(self, by: str, resolution: str, fault_confirmed: bool, audit: Audit) -> None:
        """fault_confirmed is required: resolutions become training labels."""
        self._require_unresolved("resolve")
        self._resolved(by, resolution, fault_confirmed, **audit.fields)

    def suppress(self, by: str, reason: str, until: datetime, audit: Audit) -> None:
        self._require_unresolved("suppress")
        self._suppressed(by, reason, until, **audit.fields)

    def amend(self, corrections: dict[str, Any], reason: str, audit: Audit) -> bool:
        """Allowed in every state: a corrected reading changes history, not the lifecycle."""
        unknown = set(corrections) - AMENDABLE
        if unknown:
            raise InvalidAmendmentError(f"not amendable: {sorted(unknown)}")
        if all(getattr(self, k) == v for k, v in corrections.items()):
            return False
        self._amended(dict(corrections), reason, **audit.fields)
        return True

    def _require_unresolved(self, action: str) -> None:
        if self.is_resolved:
            raise AlertAlreadyResolvedError(self.id, self.state, action)

    @event(Updated)
    def _updated(
        self,
        anomaly_id: str,
        score: float,
        peak_score: float,
        window_count: int,
        last_seen: datetime,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.anomaly_ids.append(anomaly_id)
        self.peak_score, self.window_count, self.last_seen = peak_score, window_count, last_seen

    @event(Escalated)
    def _escalated(self, severity: str, reason: str, timer_key: str, actor: str, correlation_id: str) -> None:
        self.severity = Severity(severity)
        if timer_key:
            self.fired_timer_keys.append(timer_key)

    @event(Renotified)
    def _renotified(self, timer_key: str, notified_at: datetime, actor: str, correlation_id: str) -> None:
        self.fired_timer_keys.append(timer_key)
        self.notified_at.append(notified_at)

    @event(Acknowledged)
    def _acknowledged(self, by: str, note: str, actor: str, correlation_id: str) -> None:
        self.state, self.acknowledged_by = AlertState.ACKNOWLEDGED, by

    @event(Resolved)
    def _resolved(
        self,
        by: str,
        resolution: str,
        fault_confirmed: bool | None,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.state, self.resolved_by, self.resolution = AlertState.RESOLVED, by, resolution
        self.fault_confirmed = fault_confirmed

    @event(Suppressed)
    def _suppressed(self, by: str, reason: str, until: datetime, actor: str, correlation_id: str) -> None:
        self.state, self.suppressed_until = AlertState.SUPPRESSED, until

    @event(Amended)
    def _amended(self, corrections: dict[str, Any], reason: str, actor: str, correlation_id: str) -> None:
        for name, value in corrections.items():
            setattr(self, name, value)
