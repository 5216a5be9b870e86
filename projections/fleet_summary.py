"""The fleet_summary projection: assets and open alerts by site and status, for the dashboard."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql

from projections.asset_health import AssetHealthProjection, Change
from projections.runner import Projected

Key = tuple[str, str]
APPLY = """
INSERT INTO {t} (site, status, assets, open_alerts) VALUES (%s, %s, %s, %s)
ON CONFLICT (site, status) DO UPDATE
SET assets = {t}.assets + EXCLUDED.assets, open_alerts = {t}.open_alerts + EXCLUDED.open_alerts"""
PRUNE = "DELETE FROM {t} WHERE assets = 0 AND site = ANY(%s)"


class FleetSummaryProjection(AssetHealthProjection):
    """Counts moved by each batch's changes, so `/v1/fleet/summary` reads a few dozen rows
    instead of grouping every asset on every request.

    It folds asset health into tables of its own rather than reading `rm_asset_health`: that
    table belongs to another projection at another position, so reading it would count a state
    this projection's position does not describe, and a rebuild of either would change the other.
    """

    name = "fleet_summary"
    tables = ("rm_fleet_summary", "rm_fleet_assets", "rm_fleet_alerts")
    assets_table, alerts_table = tables[1:]

    def project(self, cursor: psycopg.Cursor[Any], events: Sequence[Projected]) -> None:
        deltas = summary_deltas(self.fold_assets(cursor, events))
        if not deltas:
            return
        table = self.t("rm_fleet_summary")
        rows = [(*key, assets, open_alerts) for key, (assets, open_alerts) in deltas.items()]
        cursor.executemany(sql.SQL(APPLY).format(t=table), rows)
        cursor.execute(sql.SQL(PRUNE).format(t=table), (sorted({site for site, _ in deltas}),))


def summary_deltas(changes: Sequence[Change]) -> dict[Key, tuple[int, int]]:
    """Per (site, status): assets and open alerts added minus those taken away; zeros dropped,
    so an asset whose row changed but not its summary costs no write."""
    assets: Counter[Key] = Counter()
    open_alerts: Counter[Key] = Counter()
    for before, after in changes:
        if before is not None:
            assets[before["site"], before["status"]] -= 1
            open_alerts[before["site"], before["status"]] -= before["open_alerts"]
        assets[after["site"], after["status"]] += 1
        open_alerts[after["site"], after["status"]] += after["open_alerts"]
    return {key: (assets[key], open_alerts[key]) for key in assets.keys() | open_alerts.keys()
            if assets[key] or open_alerts[key]}
