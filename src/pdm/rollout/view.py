"""A rollout as JSON for people: state, step metrics, deadline and history (API and CLI share it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pdm.domain.application import PdmApplication
from pdm.domain.rollouts import Rollout

SKIP = {"originator_id", "originator_version", "timestamp", "originator_topic", "actor", "correlation_id"}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def rollout_view(app: PdmApplication, rollout: Rollout) -> dict[str, Any]:
    """`finished` means every deployment matches the state: nothing is left to publish or undo."""
    history = [{"event": type(e).__name__, "at": _plain(getattr(e, "at", None)),
                "actor": getattr(e, "actor", None),
                **{k: _plain(v) for k, v in vars(e).items() if k not in SKIP | {"at"}}}
               for e in app.events.get(rollout.id)]
    return {
        "rollout_id": str(rollout.id), "version": rollout.version, "state": rollout.state.value,
        "finished": rollout.finished, "reason": rollout.reason or None,
        "candidate": {"model_version": rollout.candidate[0], "artifact_hash": rollout.candidate[1]},
        "baseline": {"model_version": rollout.baseline[0], "artifact_hash": rollout.baseline[1]},
        "started_at": rollout.started_at.isoformat(), "entered_at": rollout.entered_at.isoformat(),
        "deadline": rollout.deadline.isoformat() if rollout.deadline else None,
        "canary_assets": list(rollout.canary_assets), "live_steps": list(rollout.active),
        "pending_compensations": list(rollout.pending_compensations),
        "steps": _plain(rollout.evaluations), "policy": rollout.policy.as_data(), "history": history,
    }
