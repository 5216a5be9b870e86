"""The saga's PostgreSQL tables: followed rollouts, log position and durable step deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.utils import get_topic

from pdm.domain.application import PdmApplication
from pdm.domain.rollouts import Rollout

TRACKING = "rollouts"
STARTED_TOPIC = get_topic(Rollout.Started)
PAGE = 500


@dataclass(frozen=True)
class Deadline:
    rollout_id: UUID
    state: str
    due_at: datetime
    fired_at: datetime | None = None
    outcome: str | None = None


class SagaStore:
    """Autocommit statements, each idempotent: a crash between any two of them is harmless."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def discover(self, app: PdmApplication) -> int:
        """Follows the log for `Started` events; the position moves in the same transaction."""
        with self.conn.transaction():
            self.conn.execute("INSERT INTO rollout_saga_tracking (name) VALUES (%s) ON CONFLICT DO NOTHING",
                              (TRACKING,))
            row = self.conn.execute("SELECT position FROM rollout_saga_tracking WHERE name = %s FOR UPDATE",
                                    (TRACKING,)).fetchone()
            position, top = int(row[0]) if row else 0, app.recorder.max_notification_id() or 0
            if top <= position:
                return 0
            found = app.recorder.select_notifications(position + 1, PAGE, stop=top, topics=[STARTED_TOPIC])
            for note in found:
                self.conn.execute("INSERT INTO rollout_saga_rollouts (rollout_id, started_position) "
                                  "VALUES (%s, %s) ON CONFLICT DO NOTHING", (note.originator_id, note.id))
            moved = found[-1].id if len(found) == PAGE else top
            self.conn.execute("UPDATE rollout_saga_tracking SET position = %s, updated_at = now() "
                              "WHERE name = %s", (moved, TRACKING))
        return len(found)

    def active(self) -> list[UUID]:
        rows = self.conn.execute("SELECT rollout_id FROM rollout_saga_rollouts WHERE finished_at IS NULL "
                                 "ORDER BY started_position").fetchall()
        return [UUID(str(r[0])) for r in rows]

    def finish(self, rollout_id: UUID, now: datetime) -> None:
        self.conn.execute("UPDATE rollout_saga_rollouts SET finished_at = %s WHERE rollout_id = %s "
                          "AND finished_at IS NULL", (now, rollout_id))

    def keep_deadline(self, rollout: Rollout) -> None:
        """The current state's deadline is stored; those of states already left are settled."""
        deadline = rollout.deadline
        if deadline is not None:
            self.conn.execute("INSERT INTO rollout_deadlines (rollout_id, state, due_at) VALUES (%s, %s, %s) "
                              "ON CONFLICT DO NOTHING", (rollout.id, rollout.state.value, deadline))
        self.conn.execute("UPDATE rollout_deadlines SET fired_at = %s, outcome = 'left' "
                          "WHERE rollout_id = %s AND state <> %s AND fired_at IS NULL",
                          (rollout.entered_at, rollout.id, rollout.state.value))

    def fired(self, rollout_id: UUID, state: str, now: datetime) -> None:
        self.conn.execute("UPDATE rollout_deadlines SET fired_at = %s, outcome = 'timed_out' "
                          "WHERE rollout_id = %s AND state = %s", (now, rollout_id, state))

    def due(self, now: datetime) -> list[Deadline]:
        """Pending deadlines that have passed at `now`: what a restarted saga must time out first."""
        rows = self.conn.execute("SELECT rollout_id, state, due_at FROM rollout_deadlines "
                                 "WHERE fired_at IS NULL AND due_at <= %s ORDER BY due_at", (now,)).fetchall()
        return [Deadline(UUID(str(r[0])), r[1], r[2]) for r in rows]

    def deadlines(self, rollout_id: UUID) -> list[Deadline]:
        rows = self.conn.execute("SELECT rollout_id, state, due_at, fired_at, outcome FROM rollout_deadlines "
                                 "WHERE rollout_id = %s ORDER BY created_at", (rollout_id,)).fetchall()
        return [Deadline(UUID(str(r[0])), *r[1:]) for r in rows]
