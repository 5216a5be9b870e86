"""Where each projection stands: position, lag behind the log head, last error, parked events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

STATUS = """
SELECT t.projection, t.position, t.updated_at, t.last_error, t.last_error_at,
       count(p.position) FILTER (WHERE p.error IS NOT NULL) AS parked,
       count(p.position) FILTER (WHERE p.error IS NULL) AS held
FROM projection_tracking t LEFT JOIN projection_parked p USING (projection)
GROUP BY 1, 2, 3, 4, 5 ORDER BY 1"""
PARKED = """
SELECT projection, position, originator_id, topic, error, held_behind, parked_at
FROM projection_parked WHERE projection = %s ORDER BY position"""


@dataclass(frozen=True)
class ProjectionStatus:
    projection: str
    position: int
    lag: int
    updated_at: datetime
    last_error: str | None
    last_error_at: datetime | None
    parked: int
    held: int


def projection_status(conn: psycopg.Connection[Any], head: int) -> list[ProjectionStatus]:
    """`head` is the notification log's newest position; lag counts log entries, not only wanted ones."""
    return [
        ProjectionStatus(name, position, max(head - position, 0), updated, error, error_at, parked, held)
        for name, position, updated, error, error_at, parked, held in conn.execute(STATUS)
    ]


def parked_events(conn: psycopg.Connection[Any], projection: str) -> list[dict[str, Any]]:
    cursor = conn.execute(PARKED, (projection,))
    columns = [c.name for c in cursor.description or ()]
    return [dict(zip(columns, row, strict=True)) for row in cursor]
