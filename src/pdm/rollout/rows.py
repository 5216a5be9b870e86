"""One rollout as a read-model row, folded event by event (the rollouts projection writes it)."""

from __future__ import annotations

from typing import Any

from pdm.alerting.history import plain

COLUMNS = ("rollout_id", "state", "candidate_version", "candidate_hash", "baseline_version",
           "baseline_hash", "reason", "canary_assets", "pending_compensations", "steps", "started_at",
           "updated_at", "position")
STATE_AFTER = {
    "Started": "started", "Validated": "validated", "Rejected": "rejected", "ShadowStarted": "shadowing",
    "ShadowEvaluated": "shadow_evaluated", "CanaryStarted": "canary", "CanaryEvaluated": "canary_evaluated",
    "Promoted": "promoted", "RolledBack": "rolled_back", "Aborted": "aborted", "TimedOut": "timed_out",
}
JUDGED = {"Validated": "validation", "Rejected": "validation", "ShadowEvaluated": "shadow",
          "CanaryEvaluated": "canary"}


def fold_rollout(row: dict[str, Any] | None, event: Any, position: int) -> dict[str, Any]:
    """Pure: the row after `event`. Only `Started` may begin a row; a `Compensated` event moves
    no state, it only shortens `pending_compensations`."""
    name = type(event).__name__
    if row is None:
        row = _started(event)
    row = {**row, "steps": dict(row["steps"]), "pending_compensations": list(row["pending_compensations"]),
           "updated_at": event.at, "position": position}
    row["state"] = STATE_AFTER.get(name, row["state"])
    if name in JUDGED:
        passed = name != "Rejected" and getattr(event, "passed", True)
        row["steps"][JUDGED[name]] = plain({"metrics": event.metrics, "passed": passed,
                                            "reason": getattr(event, "reason", ""), "at": event.at})
    if name == "CanaryStarted":
        row["canary_assets"] = list(event.assets)
    if name in ("RolledBack", "Aborted", "TimedOut"):
        row["pending_compensations"] = list(event.compensations)
        row["reason"] = (event.reason if name != "TimedOut"  # worded as Rollout._timed_out words it
                         else f"{event.step} exceeded its deadline {event.deadline.isoformat()}")
    if name == "Rejected":
        row["reason"] = event.reason
    if name == "Compensated" and event.step in row["pending_compensations"]:
        row["pending_compensations"].remove(event.step)
    return row


def _started(event: Any) -> dict[str, Any]:
    return {"rollout_id": event.originator_id, "state": "started",
            "candidate_version": event.candidate_version, "candidate_hash": event.candidate_hash,
            "baseline_version": event.baseline_version, "baseline_hash": event.baseline_hash,
            "reason": None, "canary_assets": [], "pending_compensations": [], "steps": {},
            "started_at": event.at}
