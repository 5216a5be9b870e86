"""Audit: who asked for a change and what it follows from, recorded on every event."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Audit:
    """`actor` is an API key name or a service; `correlation_id` links to a request,
    reading offsets or an anomaly, so any event can be traced back to its cause."""

    actor: str
    correlation_id: str

    @property
    def fields(self) -> dict[str, str]:
        return {"actor": self.actor, "correlation_id": self.correlation_id}
