"""An alert's full history from its events: when, what, who and why, for `pdm audit` and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

from pdm.domain.application import PdmApplication
from pdm.domain.errors import AlertNotFoundError

ENVELOPE = frozenset({"originator_id", "originator_version", "originator_topic", "timestamp",
                      "actor", "correlation_id"})


@dataclass(frozen=True)
class HistoryEntry:
    """`recorded_at` is audit time (when the decision was stored), not the reading's event time."""

    version: int
    recorded_at: datetime
    type: str
    actor: str
    correlation_id: str
    fields: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"version": self.version, "recorded_at": self.recorded_at.isoformat(), "type": self.type,
                "actor": self.actor, "correlation_id": self.correlation_id,
                "fields": {k: plain(v) for k, v in self.fields.items()}}


def alert_history(app: PdmApplication, alert_id: UUID) -> list[HistoryEntry]:
    """Every stored event, upcast to its current shape, oldest first."""
    entries = [
        HistoryEntry(
            version=e.originator_version,
            recorded_at=e.timestamp,
            type=type(e).__name__,
            actor=getattr(e, "actor", "?"),
            correlation_id=getattr(e, "correlation_id", ""),
            fields={k: v for k, v in vars(e).items() if k not in ENVELOPE},
        )
        for e in app.events.get(alert_id)
    ]
    if not entries:
        raise AlertNotFoundError(alert_id)
    return entries


def plain(value: Any) -> Any:
    """JSON-ready: times as ISO 8601, enums and ids as strings, containers recursively."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
