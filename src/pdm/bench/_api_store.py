"""Loads the bench fleet into the read-model tables with COPY, and samples what the load will ask for."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

import psycopg

from pdm.bench import _api_data as data
from pdm.infra.database import connect
from pdm.readmodels import queries
from pdm.settings import PostgresSettings

Tick = Callable[[int], None]
ALERT_COLUMNS = ("alert_id", "asset_id", "site", "kind", "episode", "state", "severity", "first_score",
                 "peak_score", "threshold", "model_version", "raised_at", "last_seen", "window_count",
                 "acknowledged_by", "resolved_by", "resolution", "fault_confirmed", "suppressed_until",
                 "recorded_at", "updated_at", "version", "position")
TABLES = ("rm_alerts", "rm_alert_sites", "rm_alert_timeline", "rm_asset_health", "rm_asset_health_alerts",
          "rm_score_series", "rm_asset_latest_score", "rm_fleet_assets", "rm_fleet_alerts",
          "rm_fleet_summary")
# The fleet_summary projection's tables hold what it would have folded from the same events:
# its own copy of asset health and alert states, and their counts by site and status.
FLEET_SUMMARY = {
    "rm_fleet_assets": "INSERT INTO rm_fleet_assets SELECT * FROM rm_asset_health",
    "rm_fleet_alerts": "INSERT INTO rm_fleet_alerts SELECT * FROM rm_asset_health_alerts",
    "rm_fleet_summary": "INSERT INTO rm_fleet_summary SELECT site, status, count(*), sum(open_alerts) "
                        "FROM rm_asset_health GROUP BY site, status",
}
SAMPLE = 2000
CURSOR_PAGES = 3


def load(pg: PostgresSettings, fleet: data.Fleet, tick: Tick) -> dict[str, int]:
    """One transaction for everything, then VACUUM ANALYZE, so the planner sees the real sizes."""
    counts: dict[str, int] = {}
    with connect(pg.conninfo(), pg.schema_name) as conn, conn.transaction():
        counts["rm_alert_timeline"] = _copy(conn, "rm_alert_timeline", None, data.timeline_rows(fleet),
                                            tick)
        counts["rm_alerts"] = _copy(conn, "rm_alerts", ALERT_COLUMNS,
                                    (tuple(a[c] for c in ALERT_COLUMNS) for a in fleet.alerts), tick)
        counts["rm_asset_health_alerts"] = _copy(
            conn, "rm_asset_health_alerts", None,
            ((a["alert_id"], a["asset_id"], a["state"], a["severity"]) for a in fleet.alerts), tick)
        counts["rm_asset_health"] = _copy(conn, "rm_asset_health", None, data.asset_rows(fleet), tick)
        counts["rm_alert_sites"] = _copy(conn, "rm_alert_sites", None,
                                         ((a["aggregate_id"], a["asset_id"], a["site"])
                                          for a in fleet.assets), tick)
        counts["rm_asset_latest_score"] = _copy(conn, "rm_asset_latest_score", None,
                                                data.latest_score_rows(fleet), tick)
        conn.execute("ALTER TABLE rm_score_series DROP CONSTRAINT rm_score_series_pkey")
        series = conn.execute(data.SCORE_SERIES, {"now": fleet.now, "minutes": data.SERIES_MINUTES})
        conn.execute("ALTER TABLE rm_score_series ADD PRIMARY KEY (asset_id, bucket)")  # built once
        counts["rm_score_series"] = series.rowcount
        tick(series.rowcount)
        for table, statement in FLEET_SUMMARY.items():
            counts[table] = conn.execute(statement).rowcount
    with connect(pg.conninfo(), pg.schema_name, autocommit=True) as conn:
        for table in TABLES:  # as autovacuum would have: statistics, and a visibility map for
            conn.execute(f"VACUUM ANALYZE {table}")  # index-only scans (names from this module)
    return counts


def _copy(conn: psycopg.Connection[Any], table: str, columns: Iterable[str] | None,
          rows: Iterable[tuple[Any, ...]], tick: Tick) -> int:
    names = f" ({', '.join(columns)})" if columns else ""
    count = 0
    with conn.cursor() as cursor, cursor.copy(f"COPY {table}{names} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
            if count % 10_000 == 0:
                tick(10_000)
    tick(count % 10_000)
    return count


def catalog(pg: PostgresSettings, fleet: data.Fleet) -> dict[str, Any]:
    """Ids, filters and real next-page cursors for the query mix, as JSON for the load process."""
    step = max(1, len(fleet.alerts) // SAMPLE)
    alert_filters = [{}, {"state": ["open"]}, {"state": ["open", "acknowledged"], "severity": ["critical"]},
                     *({"site": s} for s in data.SITES),
                     *({"site": s, "state": ["open"]} for s in data.SITES[:4])]
    return {
        "now": fleet.now.isoformat(),
        "sites": list(data.SITES),
        "statuses": sorted({a["status"] for a in fleet.assets}),
        "asset_ids": fleet.asset_ids[:: max(1, len(fleet.assets) // SAMPLE)],
        "noisy_asset_ids": fleet.asset_ids[: max(1, len(fleet.assets) // 50)],
        "alert_ids": [str(a["alert_id"]) for a in fleet.alerts[::step]],
        "alert_pages": asyncio.run(_alert_pages(pg, alert_filters)),
        "asset_pages": [{"site": s, "cursor": fleet.asset_ids[len(fleet.assets) // 2]} for s in data.SITES],
        "series_minutes": data.SERIES_MINUTES,
    }


async def _alert_pages(pg: PostgresSettings, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each filter's first pages with the cursor that fetches them, as a client paging would send."""
    pages = []
    async with await psycopg.AsyncConnection.connect(
            pg.conninfo(), autocommit=True, options=f"-c search_path={pg.schema_name}") as conn:
        for spec in filters:
            cursor = None
            for _ in range(CURSOR_PAGES):
                pages.append({**spec, "cursor": cursor})
                _, cursor = await queries.list_alerts(conn, _filter(spec), 50, cursor)
                if cursor is None:
                    break
    return pages


def _filter(spec: dict[str, Any]) -> queries.AlertFilter:
    return queries.AlertFilter(spec.get("state"), spec.get("severity"), spec.get("asset_id"),
                               spec.get("site"))
