"""Alert commands of the application: anomalies in, human decisions and timers on top."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from pdm.domain.alerts import Alert, Severity
from pdm.domain.anomalies import Anomaly, AnomalyOutcome, decide_anomaly
from pdm.domain.assets import Asset
from pdm.domain.audit import Audit
from pdm.domain.errors import AlertNotFoundError, AssetNotFoundError, ConcurrentChangeError
from pdm.domain.rules import (
    DEFAULT_POLICY,
    NO_DATA_KIND,
    AlertPolicy,
    is_no_data,
    needs_attention,
)
from pdm.domain.silence_service import SilenceService
from pdm.domain.timers import Timer, TimerKind, alert_timers

ANOMALY_ATTEMPTS = 3


@dataclass(frozen=True)
class AnomalyResult:
    outcome: AnomalyOutcome
    alert_id: UUID | None
    position: int


class AlertService(SilenceService):
    policy: AlertPolicy = DEFAULT_POLICY

    def apply_anomaly(
        self,
        anomaly_id: str,
        asset_id: str,
        kind: str,
        score: float,
        threshold: float,
        model_version: str,
        detected_at: datetime,
        *,
        actor: str,
        correlation_id: str,
        historical: bool = False,
    ) -> AnomalyResult:
        """Idempotent on anomaly_id; a lost race is decided again on fresh state.

        `historical`: the anomaly is older than the page horizon (backfilled or very late
        data); a new alert is recorded as `Raised` + `Suppressed(reason="historical")`."""
        anomaly = Anomaly(anomaly_id, asset_id, kind, score, threshold, model_version, detected_at)
        for _ in range(ANOMALY_ATTEMPTS - 1):
            try:
                return self._apply_once(anomaly, Audit(actor, correlation_id), historical)
            except ConcurrentChangeError:
                continue
        return self._apply_once(anomaly, Audit(actor, correlation_id), historical)

    def _apply_once(self, anomaly: Anomaly, audit: Audit, historical: bool = False) -> AnomalyResult:
        """An unknown asset is registered as unclassified in the same atomic save."""
        asset = self.find(Asset.create_id(anomaly.asset_id))
        if asset is None:
            asset = Asset.register_unclassified(anomaly.asset_id, audit)
        episode = asset.current_episode(anomaly.kind)
        latest = self.find(Alert.create_id(anomaly.asset_id, anomaly.kind, episode))
        silences = self.silences_for(anomaly.asset_id, asset.site)
        decision = decide_anomaly(asset, latest, anomaly, silences, audit, self.policy, historical=historical)
        position = self.commit(asset, *decision.changed)
        return AnomalyResult(decision.outcome, decision.alert_id, position)

    def report_no_data(
        self,
        asset_id: str,
        last_reading_at: datetime,
        at: datetime,
        *,
        actor: str,
        correlation_id: str,
        anomaly_id: str | None = None,
    ) -> AnomalyResult:
        """A silent asset raises a `no_data` alert under the same one-open-alert rules;
        a silence shorter than the policy's `no_data_after` is below threshold."""
        if not is_no_data(last_reading_at, at, self.policy):
            return AnomalyResult(AnomalyOutcome.BELOW_THRESHOLD, None, self.position())
        return self.apply_anomaly(
            anomaly_id or f"no_data/{asset_id}/{last_reading_at.isoformat()}",
            asset_id,
            NO_DATA_KIND,
            1.0,
            1.0,
            "rule:no_data",
            at,
            actor=actor,
            correlation_id=correlation_id,
        )

    def acknowledge_alert(
        self,
        alert_id: UUID,
        by: str,
        note: str,
        *,
        actor: str,
        correlation_id: str,
        expected_version: int | None = None,
    ) -> int:
        alert = self.get_alert(alert_id, expected_version)
        alert.acknowledge(by, note, Audit(actor, correlation_id))
        return self.commit(alert)

    def resolve_alert(
        self,
        alert_id: UUID,
        by: str,
        resolution: str,
        fault_confirmed: bool,
        *,
        actor: str,
        correlation_id: str,
        expected_version: int | None = None,
    ) -> int:
        alert = self.get_alert(alert_id, expected_version)
        alert.resolve(by, resolution, fault_confirmed, Audit(actor, correlation_id))
        return self.commit(alert)

    def suppress_alert(
        self,
        alert_id: UUID,
        by: str,
        reason: str,
        until: datetime,
        *,
        actor: str,
        correlation_id: str,
        expected_version: int | None = None,
    ) -> int:
        alert = self.get_alert(alert_id, expected_version)
        alert.suppress(by, reason, until, Audit(actor, correlation_id))
        return self.commit(alert)

    def escalate_alert(
        self,
        alert_id: UUID,
        severity: Severity,
        reason: str,
        *,
        actor: str,
        correlation_id: str,
        expected_version: int | None = None,
    ) -> int:
        alert = self.get_alert(alert_id, expected_version)
        alert.escalate(severity, reason, Audit(actor, correlation_id))
        return self.commit(alert)

    def amend_alert(
        self,
        alert_id: UUID,
        corrections: Mapping[str, float | str],
        reason: str,
        *,
        actor: str,
        correlation_id: str,
    ) -> int:
        alert = self.get_alert(alert_id)
        alert.amend(dict(corrections), reason, Audit(actor, correlation_id))
        return self.commit(alert)

    def fire_timer(self, timer: Timer, now: datetime, *, actor: str, correlation_id: str) -> int:
        """Fires once per key; a timer not yet due, or made stale by a change, does nothing."""
        if timer.due_at > now:
            return self.position()
        if timer.kind == TimerKind.NO_DATA:
            asset: Asset = self.load(timer.aggregate_id, AssetNotFoundError)
            since = timer.due_at - self.policy.no_data_after
            return self.report_no_data(
                asset.asset_id,
                since,
                timer.due_at,
                actor=actor,
                correlation_id=correlation_id,
                anomaly_id=timer.key,
            ).position
        alert = self.get_alert(timer.aggregate_id)
        current = timer in alert_timers(alert, self.policy)
        if not current or not needs_attention(alert, now):
            return self.position()
        if timer.kind == TimerKind.RENOTIFY:
            alert.renotify(timer.key, now, Audit(actor, correlation_id))
        else:
            reason = f"unacknowledged since {alert.raised_at.isoformat()}"
            audit = Audit(actor, correlation_id)
            alert.escalate(alert.severity.raised(), reason, audit, timer_key=timer.key)
        return self.commit(alert)

    def get_alert(self, alert_id: UUID, expected_version: int | None = None) -> Alert:
        alert: Alert = self.load(alert_id, AlertNotFoundError, "", expected_version)
        return alert

    def latest_alert(self, asset_id: str, kind: str) -> Alert | None:
        """The alert of the asset's current episode of this kind, whatever its state."""
        asset = self.find(Asset.create_id(asset_id))
        if asset is None or asset.current_episode(kind) == 0:
            return None
        alert: Alert | None = self.find(Alert.create_id(asset_id, kind, asset.current_episode(kind)))
        return alert

    def pending_timers(self, alert_id: UUID) -> list[Timer]:
        """The alert's timers to store; derived from its events, so they can be rebuilt."""
        return alert_timers(self.get_alert(alert_id), self.policy)
