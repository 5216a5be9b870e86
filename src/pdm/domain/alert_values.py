"""Values an alert holds: its lifecycle state and its severity ladder."""

from __future__ import annotations

from enum import StrEnum


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SUPPRESSED = "suppressed"
    RESOLVED = "resolved"


UNACKNOWLEDGED = frozenset({AlertState.OPEN, AlertState.SUPPRESSED})


class Severity(StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)

    def raised(self) -> Severity:
        """One step up, saturating: escalation never wraps to a milder level."""
        return list(Severity)[min(self.rank + 1, len(Severity) - 1)]


AMENDABLE = frozenset({"first_score", "peak_score", "threshold", "model_version"})
