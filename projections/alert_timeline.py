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
        """COPY into a scratch table, then one INSERT: the batch costs two statements, not one per row."""
        cols = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
        cursor.execute(sql.SQL("CREATE TEMP TABLE IF NOT EXISTS timeline_batch "
                               "(LIKE {t}) ON COMMIT DELETE ROWS").format(t=self.t("rm_alert_timeline")))
        with cursor.copy(sql.SQL("COPY timeline_batch ({cols}) FROM STDIN").format(cols=cols)) as copy:
            for p in events:
                row = timeline_entry(p.event, p.position)
                copy.write_row(tuple(param(row[c]) for c in COLUMNS))
        cursor.execute(sql.SQL("INSERT INTO {t} ({cols}) SELECT {cols} FROM timeline_batch "
                               "ON CONFLICT DO NOTHING").format(t=self.t("rm_alert_timeline"), cols=cols))
