"""Events folded into read-model rows: one pure function per row kind, shared by the projections
and by time travel, so what was known at T is computed exactly as the live tables are."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pdm.domain.alert_values import AlertState, Severity
from pdm.domain.alerts import Alert
from pdm.domain.assets import Asset
from pdm.domain.model_versions import ModelVersion

Row = dict[str, Any]
ALERT_COLUMNS = (
    "alert_id", "asset_id", "site", "kind", "episode", "state", "severity", "first_score",
    "peak_score", "threshold", "model_version", "raised_at", "last_seen", "window_count",
    "acknowledged_by", "resolved_by", "resolution", "fault_confirmed", "suppressed_until",
    "recorded_at", "updated_at", "version", "position",
)
NOTES = {"Acknowledged": "note", "Resolved": "resolution", "Suppressed": "reason",
         "Escalated": "reason", "Amended": "reason"}
ENVELOPE = frozenset({"originator_id", "originator_version", "originator_topic", "timestamp",
                      "actor", "correlation_id"})


def fold_alert(row: Row | None, event: Any, position: int, site: str = "") -> Row:
    """The alert's row after `event`; a row is a plain dict so a batch folds without SQL."""
    if isinstance(event, Alert.Raised):
        row = {name: None for name in ALERT_COLUMNS} | {
            "alert_id": event.originator_id, "asset_id": event.asset_id, "site": site,
            "kind": event.kind, "episode": event.episode, "state": AlertState.OPEN.value,
            "severity": event.severity, "first_score": event.first_score,
            "peak_score": event.first_score, "threshold": event.threshold,
            "model_version": event.model_version, "raised_at": event.raised_at,
            "last_seen": event.raised_at, "window_count": 1, "recorded_at": event.timestamp,
        }
    assert row is not None, f"{type(event).__name__} before Raised"
    row = dict(row, updated_at=event.timestamp, version=event.originator_version, position=position)
    _ALERT_CHANGES.get(type(event).__name__, lambda r, e: None)(row, event)
    return row


def _updated(row: Row, e: Any) -> None:
    row.update(peak_score=e.peak_score, window_count=e.window_count, last_seen=e.last_seen)


def _resolved(row: Row, e: Any) -> None:
    row.update(state=AlertState.RESOLVED.value, resolved_by=e.by, resolution=e.resolution,
               fault_confirmed=e.fault_confirmed)


_ALERT_CHANGES: dict[str, Any] = {
    "Updated": _updated,
    "Escalated": lambda r, e: r.update(severity=e.severity),
    "Acknowledged": lambda r, e: r.update(state=AlertState.ACKNOWLEDGED.value, acknowledged_by=e.by),
    "Resolved": _resolved,
    "Suppressed": lambda r, e: r.update(state=AlertState.SUPPRESSED.value, suppressed_until=e.until),
    "Amended": lambda r, e: r.update(e.corrections),
}


def timeline_entry(event: Any, position: int) -> Row:
    """One transition: who, why (the note), and the event's own fields."""
    name = type(event).__name__
    fields = {k: v for k, v in vars(event).items() if k not in ENVELOPE}
    return {"alert_id": event.originator_id, "version": event.originator_version, "position": position,
            "event_type": name, "actor": getattr(event, "actor", "?"),
            "correlation_id": getattr(event, "correlation_id", ""),
            "note": fields.get(NOTES.get(name, "")), "details": fields, "recorded_at": event.timestamp}


def fold_asset(row: Row | None, event: Any, position: int) -> Row:
    """The asset's identity and lifecycle; alert counts and status are added by `with_status`."""
    if isinstance(event, Asset.Registered):
        row = {"asset_id": event.asset_id, "aggregate_id": event.originator_id, "site": event.site,
               "kind": event.kind, "classified": event.classified, "decommissioned": False,
               "channels": dict(event.channels), "registered_at": event.timestamp}
    assert row is not None, f"{type(event).__name__} before Registered"
    row = dict(row, updated_at=event.timestamp, position=position)
    if isinstance(event, Asset.Classified):
        row.update(site=event.site, kind=event.kind, classified=True)
    elif isinstance(event, Asset.SensorsDeclared):
        row["channels"] = {**row["channels"], **event.channels}
    elif isinstance(event, Asset.Decommissioned):
        row["decommissioned"] = True
    return row


def health_status(decommissioned: bool, open_severities: Iterable[str]) -> str:
    """The worst severity among unresolved alerts, `ok` with none; decommissioned trumps all."""
    if decommissioned:
        return "decommissioned"
    ranks = [Severity(s).rank for s in open_severities]
    return list(Severity)[max(ranks)].value if ranks else "ok"


def fold_model(row: Row | None, event: Any, position: int) -> Row:
    if isinstance(event, ModelVersion.Trained):
        row = {"artifact_hash": event.artifact_hash, "model_id": event.originator_id,
               "algorithm": event.algorithm, "state": "trained",
               "feature_set_version": event.feature_set_version,
               "training_from": event.training_from, "training_to": event.training_to,
               "metrics": dict(event.metrics), "backtest_metrics": {}, "verdict_reason": "",
               "trained_at": event.timestamp}
    assert row is not None, f"{type(event).__name__} before Trained"
    row = dict(row, updated_at=event.timestamp, position=position)
    if isinstance(event, ModelVersion.Validated):
        row.update(state="validated", backtest_metrics=dict(event.metrics))
    elif isinstance(event, ModelVersion.Rejected):
        row.update(state="rejected", backtest_metrics=dict(event.metrics), verdict_reason=event.reason)
    elif isinstance(event, ModelVersion.Retired):
        row.update(state="retired", verdict_reason=event.reason)
    return row
