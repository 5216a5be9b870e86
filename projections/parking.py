"""The projection runner with poison parking: an event a projection cannot take is set aside.

A failed batch is retried event by event, each in a savepoint: the event that raises is parked
in `projection_parked` with its error, every later event of the same aggregate is held behind it
(so that aggregate's rows never skip a step), and every other aggregate moves on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg

from pdm.logs import get_logger
from projections.runner import (
    ENSURE_TRACKING,
    LOCK_TRACKING,
    MOVE_TRACKING,
    Projected,
    Projection,
    ProjectionRunner,
    _scalar,
)

log = get_logger(__name__)
HELD = "SELECT originator_id, min(position) FROM projection_parked WHERE projection = %s GROUP BY 1"
PARK = """INSERT INTO projection_parked (projection, position, originator_id, topic, error, held_behind)
VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"""
NOTE_ERROR = "UPDATE projection_tracking SET last_error = %s, last_error_at = now() WHERE projection = %s"


class ParkingRunner(ProjectionRunner):
    """Batches as fast as the plain runner; only a failing batch pays for savepoints."""

    def step(self, projection: Projection) -> int:
        try:
            return super().step(projection)
        except (psycopg.OperationalError, KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            log.warning("projection_batch_failed", projection=projection.name, error=repr(exc)[:300])
            with self.conn.transaction(), self.conn.cursor() as cursor:
                return self._step(projection, cursor, careful=True)

    def _step(self, projection: Projection, cursor: psycopg.Cursor[Any], careful: bool = False) -> int:
        cursor.execute(ENSURE_TRACKING, (projection.name,))
        position = _scalar(cursor.execute(LOCK_TRACKING, (projection.name,)))
        notifications = self.app.recorder.select_notifications(position + 1, self.batch_size)
        if not notifications:
            return 0
        held: dict[UUID, int] = dict(cursor.execute(HELD, (projection.name,)).fetchall())
        wanted = [n for n in notifications if projection.wants(n.topic)]
        self._hold(cursor, projection, [n for n in wanted if n.originator_id in held], held)
        free = [n for n in wanted if n.originator_id not in held]
        if careful:
            self._one_by_one(cursor, projection, free)
        elif free:
            projection.project(cursor, [Projected(n.id, self.app.mapper.to_domain_event(n)) for n in free])
        cursor.execute(MOVE_TRACKING, (notifications[-1].id, projection.name))
        return len(notifications)

    def _one_by_one(self, cursor: psycopg.Cursor[Any], projection: Projection,
                    notifications: Sequence[Any]) -> None:
        held: dict[UUID, int] = {}
        for n in notifications:
            if n.originator_id in held:
                self._hold(cursor, projection, [n], held)
                continue
            try:
                with self.conn.transaction():
                    projection.project(cursor, [Projected(n.id, self.app.mapper.to_domain_event(n))])
            except (psycopg.OperationalError, KeyboardInterrupt, SystemExit):
                raise
            except Exception as exc:
                projection.forget()
                self._park(cursor, projection, n, exc)
                held[n.originator_id] = n.id

    def _park(self, cursor: psycopg.Cursor[Any], projection: Projection, n: Any, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        cursor.execute(PARK, (projection.name, n.id, n.originator_id, n.topic, error, None))
        cursor.execute(NOTE_ERROR, (error, projection.name))
        log.error("projection_event_parked", projection=projection.name, position=n.id,
                  originator_id=str(n.originator_id), topic=n.topic, error=error[:300])

    def _hold(self, cursor: psycopg.Cursor[Any], projection: Projection, notifications: Sequence[Any],
              held: dict[UUID, int]) -> None:
        rows = [(projection.name, n.id, n.originator_id, n.topic, None, held[n.originator_id])
                for n in notifications]
        if rows:
            cursor.executemany(PARK, rows)
