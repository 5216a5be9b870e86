"""Queries over the read-model tables: parameterised SQL only, rows as plain dicts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from pdm.readmodels.cursors import decode_cursor, encode_cursor

Rows = list[dict[str, Any]]
ASSET_HEALTH = """
SELECT h.asset_id, h.site, h.kind, h.classified, h.decommissioned, h.status, h.open_alerts, h.channels,
       h.registered_at, h.updated_at, h.position, s.ts AS last_reading_at, s.score AS latest_score,
       s.threshold AS latest_threshold, s.is_anomalous AS latest_is_anomalous,
       s.model_version AS serving_model_version
FROM rm_asset_health h LEFT JOIN rm_asset_latest_score s USING (asset_id)"""
SERIES = """
SELECT date_bin(make_interval(secs => %(step)s), bucket, TIMESTAMPTZ 'epoch') AS t,
       sum(n)::int AS n, sum(score_sum) / sum(n) AS mean, min(score_min) AS min, max(score_max) AS max,
       max(threshold) AS threshold, sum(anomalous)::int AS anomalous
FROM rm_score_series WHERE asset_id = %(asset)s AND bucket >= %(from)s AND bucket < %(to)s
GROUP BY 1 ORDER BY 1"""
FLEET = "SELECT site, status, assets, open_alerts FROM rm_fleet_summary ORDER BY site, status"
# The event store's table: the library names it after the application (`pdm`, see pdm.eventstore).
LOG_HEAD = "SELECT max(notification_id) AS head FROM pdm_events"


@dataclass(frozen=True)
class AlertFilter:
    state: list[str] | None = None
    severity: list[str] | None = None
    asset_id: str | None = None
    site: str | None = None
    raised_from: datetime | None = None
    raised_to: datetime | None = None

    def where(self) -> tuple[list[str], dict[str, Any]]:
        """Each filter is one bound parameter; the column names come from this code only."""
        clauses, params = [], {}
        for column, value in (("state", self.state), ("severity", self.severity)):
            if value:
                clauses.append(f"{column} = ANY(%({column})s)")
                params[column] = value
        for column, value in (("asset_id", self.asset_id), ("site", self.site)):
            if value is not None:
                clauses.append(f"{column} = %({column})s")
                params[column] = value
        if self.raised_from is not None:
            clauses.append("raised_at >= %(raised_from)s")
            params["raised_from"] = self.raised_from
        if self.raised_to is not None:
            clauses.append("raised_at < %(raised_to)s")
            params["raised_to"] = self.raised_to
        return clauses, params


async def fetch(conn: AsyncConnection[Any], query: str, params: Any = None) -> Rows:
    """Binary results: psycopg decodes timestamps, uuids and numbers from their binary form
    without parsing text (the same Python values; measured under `pdm bench api`)."""
    async with conn.cursor(row_factory=dict_row, binary=True) as cursor:
        await cursor.execute(query, params)  # type: ignore[arg-type]
        return await cursor.fetchall()


async def list_alerts(conn: AsyncConnection[Any], filters: AlertFilter, limit: int,
                      cursor: str | None = None,
                      recorded_by: datetime | None = None) -> tuple[Rows, str | None]:
    """Newest first by (raised_at, alert_id): keyset pages stay stable while alerts arrive."""
    clauses, params = filters.where()
    if cursor:
        params["c_at"], params["c_id"] = decode_cursor(cursor)
        clauses.append("(raised_at, alert_id) < (%(c_at)s, %(c_id)s)")
    if recorded_by is not None:
        clauses.append("recorded_at <= %(recorded_by)s")
        params["recorded_by"] = recorded_by
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    params["limit"] = limit + 1
    rows = await fetch(conn, f"SELECT * FROM rm_alerts {where} "  # the clauses are constants
                             "ORDER BY raised_at DESC, alert_id DESC LIMIT %(limit)s", params)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1]["raised_at"], rows[-1]["alert_id"]) if more else None


async def alert(conn: AsyncConnection[Any], alert_id: UUID) -> dict[str, Any] | None:
    rows = await fetch(conn, "SELECT * FROM rm_alerts WHERE alert_id = %s", (alert_id,))
    return rows[0] if rows else None


async def timeline(conn: AsyncConnection[Any], alert_id: UUID) -> Rows:
    query = "SELECT * FROM rm_alert_timeline WHERE alert_id = %s ORDER BY version"
    return await fetch(conn, query, (alert_id,))


async def list_assets(conn: AsyncConnection[Any], site: str | None, status: str | None,
                      after_id: str | None, limit: int) -> Rows:
    query = ASSET_HEALTH + """ WHERE (%(site)s::text IS NULL OR h.site = %(site)s)
      AND (%(status)s::text IS NULL OR h.status = %(status)s)
      AND (%(after)s::text IS NULL OR h.asset_id > %(after)s) ORDER BY h.asset_id LIMIT %(limit)s"""
    return await fetch(conn, query, {"site": site, "status": status, "after": after_id, "limit": limit})


async def asset_health(conn: AsyncConnection[Any], asset_id: str) -> dict[str, Any] | None:
    rows = await fetch(conn, ASSET_HEALTH + " WHERE h.asset_id = %s", (asset_id,))
    return rows[0] if rows else None


async def score_series(conn: AsyncConnection[Any], asset_id: str, start: datetime, end: datetime,
                       step_s: int) -> Rows:
    return await fetch(conn, SERIES, {"asset": asset_id, "from": start, "to": end, "step": step_s})


async def models(conn: AsyncConnection[Any], state: str | None) -> Rows:
    return await fetch(conn, "SELECT * FROM rm_models WHERE (%(s)s::text IS NULL OR state = %(s)s) "
                             "ORDER BY trained_at DESC, artifact_hash", {"s": state})


async def fleet_summary(conn: AsyncConnection[Any]) -> Rows:
    return await fetch(conn, FLEET)


async def tracked_position(conn: AsyncConnection[Any], projection: str) -> int:
    rows = await fetch(conn, "SELECT position FROM projection_tracking WHERE projection = %s", (projection,))
    return int(rows[0]["position"]) if rows else 0


async def log_head(conn: AsyncConnection[Any]) -> int:
    """The newest position the event log issued: one step down the notification-id index."""
    rows = await fetch(conn, LOG_HEAD)
    return int(rows[0]["head"] or 0)
