"""The batch projection runner: the event store's notification log into read-model tables.

Each batch of events is written together with the projection's new position in ONE
transaction, so a crash at any point leaves rows and position consistent (exactly-once
effect), and the tracking row is locked for the batch, so two projectors never interleave.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg

from pdm.domain.application import PdmApplication

ENSURE_TRACKING = "INSERT INTO projection_tracking (projection) VALUES (%s) ON CONFLICT DO NOTHING"
LOCK_TRACKING = "SELECT position FROM projection_tracking WHERE projection = %s FOR UPDATE"
MOVE_TRACKING = "UPDATE projection_tracking SET position = %s, updated_at = now() WHERE projection = %s"


@dataclass(frozen=True)
class Projected:
    """A decoded domain event with its position in the notification log."""

    position: int
    event: Any


class Projection(Protocol):
    """A read model: `project` writes a batch's rows through the cursor it is given, no commit."""

    name: str

    def wants(self, topic: str) -> bool: ...

    def project(self, cursor: psycopg.Cursor[Any], events: Sequence[Projected]) -> None: ...

    def forget(self) -> None:
        """Drops in-memory state after a rolled-back batch, which may have been ahead of the rows."""


class ProjectionRunner:
    """Runs projections over one application's log; call `run_once` until it returns 0."""

    def __init__(self, app: PdmApplication, conn: psycopg.Connection[Any],
                 projections: Sequence[Projection], batch_size: int = 500) -> None:
        self.app, self.conn = app, conn
        self.projections = list(projections)
        self.batch_size = batch_size

    def run_once(self) -> int:
        """One batch per projection; returns how many log entries were read in all."""
        return sum(self.step(p) for p in self.projections)

    def catch_up(self) -> int:
        total = 0
        while (read := self.run_once()) > 0:
            total += read
        return total

    def step(self, projection: Projection) -> int:
        try:
            with self.conn.transaction(), self.conn.cursor() as cursor:
                return self._step(projection, cursor)
        except BaseException:
            projection.forget()
            raise

    def _step(self, projection: Projection, cursor: psycopg.Cursor[Any]) -> int:
        cursor.execute(ENSURE_TRACKING, (projection.name,))
        position = _scalar(cursor.execute(LOCK_TRACKING, (projection.name,)))
        notifications = self.app.recorder.select_notifications(position + 1, self.batch_size)
        if not notifications:
            return 0
        wanted = [
            Projected(n.id, self.app.mapper.to_domain_event(n))
            for n in notifications if projection.wants(n.topic)
        ]
        if wanted:
            projection.project(cursor, wanted)
        cursor.execute(MOVE_TRACKING, (notifications[-1].id, projection.name))
        return len(notifications)

    def positions(self) -> dict[str, int]:
        with self.conn.transaction(), self.conn.cursor() as cursor:
            rows = cursor.execute("SELECT projection, position FROM projection_tracking").fetchall()
        return {name: int(position) for name, position in rows}


def _scalar(cursor: psycopg.Cursor[Any]) -> int:
    row = cursor.fetchone()
    assert row is not None
    return int(row[0])
