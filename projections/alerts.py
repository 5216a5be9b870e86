"""The alerts projection: one row per alert for the filtered, paged list (`rm_alerts`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from pdm.domain.alerts import Alert
from pdm.domain.assets import Asset
from pdm.readmodels.rows import ALERT_COLUMNS, fold_alert
from projections.runner import Projected
from projections.tables import TableProjection, load, topics_of, upsert

SITE_COLUMNS = ("aggregate_id", "asset_id", "site")
RESITE = "UPDATE {alerts} SET site = %s WHERE asset_id = %s AND site <> %s"


class AlertsProjection(TableProjection):
    """Alerts carry their asset's current site, so the projection also follows asset identity."""

    name = "alerts"
    tables = ("rm_alerts", "rm_alert_sites")
    topics = topics_of(Alert) | frozenset(
        t for t in topics_of(Asset) if t.endswith(("Registered", "Classified")))

    def project(self, cursor: psycopg.Cursor[Any], events: Sequence[Projected]) -> None:
        sites = self._project_sites(cursor, [p.event for p in events if isinstance(p.event, Asset.Event)])
        alert_events = [p for p in events if isinstance(p.event, Alert.Event)]
        raised = {p.event.asset_id for p in alert_events if isinstance(p.event, Alert.Raised)}
        sites |= self._sites_of(cursor, raised - set(sites))
        rows = load(cursor, self.t("rm_alerts"), "alert_id",
                    list({p.event.originator_id for p in alert_events}), ALERT_COLUMNS)
        for p in alert_events:
            site = sites.get(getattr(p.event, "asset_id", ""), "")
            key = p.event.originator_id
            rows[key] = fold_alert(rows.get(key), p.event, p.position, site)
        upsert(cursor, self.t("rm_alerts"), "alert_id", ALERT_COLUMNS, rows.values())

    def _project_sites(self, cursor: psycopg.Cursor[Any], events: Sequence[Any]) -> dict[str, str]:
        """Asset sites as of the batch's end; an asset that moved takes its alerts with it."""
        if not events:
            return {}
        known = load(cursor, self.t("rm_alert_sites"), "aggregate_id",
                     list({e.originator_id for e in events}), SITE_COLUMNS)
        for e in events:
            asset_id = e.asset_id if isinstance(e, Asset.Registered) else known[e.originator_id]["asset_id"]
            known[e.originator_id] = {"aggregate_id": e.originator_id, "asset_id": asset_id, "site": e.site}
        upsert(cursor, self.t("rm_alert_sites"), "aggregate_id", SITE_COLUMNS, known.values())
        sites = {row["asset_id"]: row["site"] for row in known.values()}
        resite = sql.SQL(RESITE).format(alerts=self.t("rm_alerts"))
        cursor.executemany(resite, [(s, a, s) for a, s in sites.items()])
        return sites

    def _sites_of(self, cursor: psycopg.Cursor[Any], asset_ids: set[str]) -> dict[str, str]:
        if not asset_ids:
            return {}
        query = sql.SQL("SELECT asset_id, site FROM {t} WHERE aggregate_id = ANY(%s)").format(
            t=self.t("rm_alert_sites"))
        ids: list[UUID] = [Asset.create_id(a) for a in asset_ids]
        return dict(cursor.execute(query, (ids,)).fetchall())
