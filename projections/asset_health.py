"""The asset_health projection: each asset's identity, lifecycle, open alerts and status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql

from pdm.domain.alert_values import AlertState
from pdm.domain.alerts import Alert
from pdm.domain.assets import Asset
from pdm.readmodels.rows import fold_asset, health_status
from projections.runner import Projected
from projections.tables import TableProjection, load, topics_of, upsert

COLUMNS = ("asset_id", "aggregate_id", "site", "kind", "classified", "decommissioned", "status",
           "open_alerts", "channels", "registered_at", "updated_at", "position")
ALERT_COLUMNS = ("alert_id", "asset_id", "state", "severity")
Row = dict[str, Any]
Change = tuple[Row | None, Row]
OPEN = "SELECT asset_id, severity FROM {t} WHERE asset_id = ANY(%s) AND state <> %s"


class AssetHealthProjection(TableProjection):
    """Status is the worst open alert's severity, so alert events re-rank the assets they touch."""

    name = "asset_health"
    tables = ("rm_asset_health", "rm_asset_health_alerts")
    topics = topics_of(Asset) | topics_of(Alert)
    assets_table, alerts_table = tables

    def project(self, cursor: psycopg.Cursor[Any], events: Sequence[Projected]) -> None:
        self.fold_assets(cursor, events)

    def fold_assets(self, cursor: psycopg.Cursor[Any], events: Sequence[Projected]) -> list[Change]:
        """Writes the new row of every asset the batch touched; returns each as (before, after),
        before being None for an asset registered in this batch."""
        touched = self._project_alerts(cursor, [p.event for p in events if isinstance(p.event, Alert.Event)])
        asset_events = [p for p in events if isinstance(p.event, Asset.Event)]
        ids = {p.event.originator_id for p in asset_events} | {Asset.create_id(a) for a in touched}
        rows = load(cursor, self.t(self.assets_table), "aggregate_id", list(ids), COLUMNS)
        before = {key: dict(row) for key, row in rows.items()}
        for p in asset_events:
            rows[p.event.originator_id] = fold_asset(rows.get(p.event.originator_id), p.event, p.position)
        severities = self._open_severities(cursor, [row["asset_id"] for row in rows.values()])
        for row in rows.values():
            found = severities.get(row["asset_id"], [])
            row.update(open_alerts=len(found), status=health_status(row["decommissioned"], found))
        upsert(cursor, self.t(self.assets_table), "asset_id", COLUMNS, rows.values())
        return [(before.get(key), row) for key, row in rows.items()]

    def _project_alerts(self, cursor: psycopg.Cursor[Any], events: Sequence[Any]) -> set[str]:
        """Each alert's state and severity; returns the assets whose open alerts may have changed."""
        table = self.t(self.alerts_table)
        alerts = load(cursor, table, "alert_id", list({e.originator_id for e in events}), ALERT_COLUMNS)
        for e in events:
            alerts[e.originator_id] = _fold(alerts.get(e.originator_id), e)
        upsert(cursor, table, "alert_id", ALERT_COLUMNS, alerts.values())
        return {row["asset_id"] for row in alerts.values()}

    def _open_severities(self, cursor: psycopg.Cursor[Any], asset_ids: list[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        query = sql.SQL(OPEN).format(t=self.t(self.alerts_table))
        for asset_id, severity in cursor.execute(query, (asset_ids, AlertState.RESOLVED.value)):
            found.setdefault(asset_id, []).append(severity)
        return found


def _fold(row: dict[str, Any] | None, event: Any) -> dict[str, Any]:
    if isinstance(event, Alert.Raised):
        return {"alert_id": event.originator_id, "asset_id": event.asset_id,
                "state": AlertState.OPEN.value, "severity": event.severity}
    assert row is not None, f"{type(event).__name__} before Raised"
    if isinstance(event, Alert.Escalated):
        return row | {"severity": event.severity}
    states = {"Acknowledged": AlertState.ACKNOWLEDGED, "Resolved": AlertState.RESOLVED,
              "Suppressed": AlertState.SUPPRESSED}
    state = states.get(type(event).__name__)
    return row | {"state": state.value} if state else row


