"""The alert_timeline projection: every transition of every alert, with actor and note."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql

from pdm.domain.alerts import Alert
from pdm.readmodels.rows import timeline_entry
from projections.runner import Projected
from projections.tables import TableProjection, param, topics_of

COLUMNS = ("alert_id", "version", "position", "event_type", "actor", "correlation_id", "note",
           "details", "recorded_at")


class AlertTimelineProjection(TableProjection):
    """Append-only: an event is one row keyed by (alert, version), so a replay inserts nothing."""

    name = "alert_timeline"
    tables = ("rm_alert_timeline",)
    topics = topics_of(Alert)

    def project(self, cursor: psycopg.Cursor[Any], events: Sequence[Projected]) -> None:
        query = sql.SQL("INSERT INTO {t} ({cols}) VALUES ({vals}) ON CONFLICT DO NOTHING").format(
            t=self.t("rm_alert_timeline"), cols=sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
            vals=sql.SQL(", ").join(sql.Placeholder() * len(COLUMNS)))
        rows = [timeline_entry(p.event, p.position) for p in events]
        cursor.executemany(query, [tuple(param(row[c]) for c in COLUMNS) for row in rows])
