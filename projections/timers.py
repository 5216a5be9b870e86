"""The alert_timers projection: each alert's pending re-notify and escalate timers, as rows.

Timers are derived from the alert's state (`pdm.domain.timers.alert_timers`), so the table can
be rebuilt from the events at any time. The projection folds each alert's events onto a cached
aggregate (one read of the store per alert it has not seen, none in the steady state).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.utils import get_topic

from pdm.domain.alerts import Alert
from pdm.domain.application import PdmApplication
from pdm.domain.rules import DEFAULT_POLICY, AlertPolicy
from pdm.domain.timers import TimerKind, alert_timers
from projections.runner import Projected

ALERT_EVENTS = frozenset(
    get_topic(cls) for cls in vars(Alert).values()
    if isinstance(cls, type) and issubclass(cls, Alert.Event) and cls is not Alert.Event
)
DROP_STALE = """
DELETE FROM alert_timers
WHERE aggregate_id = ANY(%s) AND kind <> 'no_data' AND NOT (timer_key = ANY(%s))"""
UPSERT = """
INSERT INTO alert_timers (timer_key, kind, aggregate_id, asset_id, due_at, source_position)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (timer_key) DO UPDATE SET
    due_at = EXCLUDED.due_at, source_position = EXCLUDED.source_position,
    -- a timer whose due time moved (a suppression) is pending again; firing twice is harmless
    fired_at = CASE WHEN alert_timers.due_at = EXCLUDED.due_at THEN alert_timers.fired_at END,
    outcome = CASE WHEN alert_timers.due_at = EXCLUDED.due_at THEN alert_timers.outcome END"""
TimerRow = tuple[str, str, UUID, str, datetime, int]


class AlertTimersProjection:
    name = "alert_timers"

    def __init__(self, app: PdmApplication, policy: AlertPolicy = DEFAULT_POLICY,
                 cache_size: int = 10_000) -> None:
        self.app, self.policy, self.cache_size = app, policy, cache_size
        self.alerts: OrderedDict[UUID, Alert] = OrderedDict()

    def wants(self, topic: str) -> bool:
        return topic in ALERT_EVENTS

    def project(self, cursor: psycopg.Cursor[Any], events: Sequence[Projected]) -> None:
        rows, touched = self.timer_rows(events)
        cursor.execute(DROP_STALE, (list(touched), [row[0] for row in rows]))
        if rows:
            cursor.executemany(UPSERT, rows)

    def timer_rows(self, events: Sequence[Projected]) -> tuple[list[TimerRow], set[UUID]]:
        """The timers every touched alert has after the batch; pure but for cache misses."""
        latest: dict[UUID, tuple[Alert, int]] = {}
        for projected in events:
            latest[projected.event.originator_id] = (self.fold(projected.event), projected.position)
        rows = [
            (t.key, str(t.kind), t.aggregate_id, alert.asset_id, t.due_at, position)
            for alert, position in latest.values() for t in alert_timers(alert, self.policy)
            if t.kind != TimerKind.NO_DATA
        ]
        return rows, set(latest)

    def fold(self, event: Any) -> Alert:
        """Applies one event to the cached alert; loads the version before it on a miss."""
        alert = self.alerts.pop(event.originator_id, None)
        if alert is None or alert.version != event.originator_version - 1:
            alert = None
            if event.originator_version > 1:
                alert = self.app.repository.get(event.originator_id, version=event.originator_version - 1)
        alert = event.mutate(alert)
        assert alert is not None
        if not alert.is_resolved:  # a resolved alert has no timers left: keep no state for it
            self.alerts[alert.id] = alert
            if len(self.alerts) > self.cache_size:
                self.alerts.popitem(last=False)
        return alert

    def forget(self) -> None:
        self.alerts.clear()
