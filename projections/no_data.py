"""NoData: when each asset's newest reading in the reading archive last moved on, as a no-data timer.

The archive is the durable record of what arrived (the embedded broker keeps nothing across
restarts). Each scan finds every asset with one index probe per asset and partition (a loose
index scan over (asset_id, ts)) and its newest live reading. Silence is measured on the
projector's clock from when that newest reading last moved on (`observed_at`, kept in
`asset_last_reading.updated_at`), not from the reading's own timestamp: a device whose clock
is off, or a replay of past data at any speed, is still a sign of life. Each asset has one
pending `no_data` timer keyed by that observation; a fresher reading replaces it, silence
lets it fall due. Backfilled readings (flag bit 1) and readings stamped more than `lookback`
before now are history, not a sign of life, and do not count.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg

from pdm.domain.assets import Asset
from pdm.domain.rules import DEFAULT_POLICY, AlertPolicy
from pdm.domain.timers import no_data_timer

LATEST_READINGS = """
WITH RECURSIVE assets(asset_id) AS (
    (SELECT asset_id FROM readings_archive ORDER BY asset_id LIMIT 1)
  UNION ALL
    SELECT (SELECT r.asset_id FROM readings_archive r WHERE r.asset_id > a.asset_id
            ORDER BY r.asset_id LIMIT 1)
    FROM assets a WHERE a.asset_id IS NOT NULL
), latest AS (
    SELECT a.asset_id,
           (SELECT max(r.ts) FROM readings_archive r
            WHERE r.asset_id = a.asset_id AND r.flags & 2 = 0) AS last_reading_at
    FROM assets a WHERE a.asset_id IS NOT NULL
)
INSERT INTO asset_last_reading AS known (asset_id, last_reading_at, updated_at)
SELECT asset_id, last_reading_at, %(now)s FROM latest WHERE last_reading_at >= %(since)s
ON CONFLICT (asset_id) DO UPDATE SET last_reading_at = EXCLUDED.last_reading_at, updated_at = %(now)s
WHERE known.last_reading_at < EXCLUDED.last_reading_at
RETURNING asset_id, updated_at"""
DROP_PENDING = """
DELETE FROM alert_timers WHERE kind = 'no_data' AND aggregate_id = %s AND fired_at IS NULL
  AND timer_key <> %s"""
INSERT_TIMER = """
INSERT INTO alert_timers (timer_key, kind, aggregate_id, asset_id, due_at, last_reading_at)
VALUES (%s, 'no_data', %s, %s, %s, %s) ON CONFLICT (timer_key) DO NOTHING"""


class NoDataWatch:
    """Call `scan(now)` every few seconds; it writes only for assets with a newer reading.

    Silence is noticed up to one scan interval late: that is the price of not indexing arrival time.
    """

    def __init__(self, conn: psycopg.Connection[Any], policy: AlertPolicy = DEFAULT_POLICY,
                 lookback: timedelta = timedelta(hours=24)) -> None:
        self.conn, self.policy, self.lookback = conn, policy, lookback

    def scan(self, now: datetime) -> int:
        """Returns how many assets have a fresh reading; their timers move in the same transaction."""
        with self.conn.transaction(), self.conn.cursor() as cursor:
            fresh = cursor.execute(LATEST_READINGS, {"since": now - self.lookback, "now": now}).fetchall()
            for asset_id, observed_at in fresh:
                timer = no_data_timer(Asset.create_id(asset_id), observed_at, self.policy)
                cursor.execute(DROP_PENDING, (timer.aggregate_id, timer.key))
                cursor.execute(INSERT_TIMER, (timer.key, timer.aggregate_id, asset_id, timer.due_at,
                                              observed_at))
        return len(fresh)
