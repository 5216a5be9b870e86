"""Resolutions as training labels: which alert windows were real faults, read from the event store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.utils import get_topic

from pdm.domain.alerts import Alert
from pdm.domain.application import PdmApplication

PAGE = 500


@dataclass(frozen=True)
class AlertLabel:
    """One resolved episode: [raised_at, last_seen] of `asset_id` was a fault or it was not.

    `fault_confirmed` is None for resolutions stored before the question was asked: unknown,
    never a negative label. `position` lets a trainer resume from where it last read.
    """

    alert_id: UUID
    asset_id: str
    kind: str
    episode: int
    raised_at: datetime
    last_seen: datetime
    model_version: str
    fault_confirmed: bool | None
    resolution: str
    resolved_by: str
    position: int


def resolved_alert_labels(
    app: PdmApplication, *, asset_id: str | None = None, after_position: int = 0,
    known_only: bool = False,
) -> list[AlertLabel]:
    """Reads only `Resolved` events from the log, then each alert as it was when resolved."""
    labels = []
    for position, resolved in _resolutions(app, after_position):
        alert: Alert = app.repository.get(resolved.originator_id, version=resolved.originator_version)
        if asset_id is not None and alert.asset_id != asset_id:
            continue
        if known_only and alert.fault_confirmed is None:
            continue
        labels.append(AlertLabel(
            alert.id, alert.asset_id, alert.kind, alert.episode, alert.raised_at, alert.last_seen,
            alert.model_version, alert.fault_confirmed, alert.resolution or "", alert.resolved_by or "",
            position,
        ))
    return labels


def _resolutions(app: PdmApplication, after_position: int) -> Iterator[tuple[int, Alert.Resolved]]:
    topic = get_topic(Alert.Resolved)
    start = after_position + 1
    while True:
        page = app.recorder.select_notifications(start, PAGE, topics=[topic])
        for notification in page:
            event = app.mapper.to_domain_event(notification)
            assert isinstance(event, Alert.Resolved)
            yield notification.id, event
        if len(page) < PAGE:
            return
        start = page[-1].id + 1
