"""Rebuild a read model into fresh tables from position 0, then swap them in atomically.

The live tables keep serving (and the projector keeps moving them) during the long catch-up.
The swap locks the live projection's tracking row (the projector waits on it), catches the
copy up to the head inside the same transaction, renames the tables and moves the position:
readers see either the old tables or the new ones, never a half-built one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from pdm.domain.application import PdmApplication
from projections.parking import ParkingRunner
from projections.registry import READ_MODELS
from projections.runner import ENSURE_TRACKING, LOCK_TRACKING
from projections.tables import REBUILD_SUFFIX, TableProjection


@dataclass(frozen=True)
class Rebuilt:
    name: str
    position: int
    events: int
    seconds: float

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def rebuild(app: PdmApplication, conn: psycopg.Connection[Any], name: str,
            batch_size: int = 5000, swap: bool = True) -> Rebuilt:
    fresh = READ_MODELS[name](REBUILD_SUFFIX)
    prepare(conn, fresh)
    runner = ParkingRunner(app, conn, [fresh], batch_size)
    started = time.perf_counter()
    events = runner.catch_up()
    seconds = time.perf_counter() - started
    position = swap_in(conn, runner, fresh, name) if swap else runner.positions()[fresh.name]
    return Rebuilt(name, position, events, seconds)


def prepare(conn: psycopg.Connection[Any], fresh: TableProjection) -> None:
    """Empty copies shaped like the live tables (indexes included), tracked from position 0."""
    with conn.transaction():
        for table in fresh.tables:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(fresh.t(table)))
            conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
                fresh.t(table), sql.Identifier(table)))
        conn.execute("DELETE FROM projection_tracking WHERE projection = %s", (fresh.name,))
        conn.execute("DELETE FROM projection_parked WHERE projection = %s", (fresh.name,))


def swap_in(conn: psycopg.Connection[Any], runner: ParkingRunner, fresh: TableProjection, name: str) -> int:
    with conn.transaction(), conn.cursor() as cursor:
        cursor.execute(ENSURE_TRACKING, (name,))
        cursor.execute(LOCK_TRACKING, (name,))
        while runner._step(fresh, cursor) > 0:
            pass
        position = cursor.execute("SELECT position FROM projection_tracking WHERE projection = %s",
                                  (fresh.name,)).fetchone()[0]  # type: ignore[index]
        for table in fresh.tables:
            live, old = sql.Identifier(table), sql.Identifier(table + "__old")
            copy_grants(cursor, live, fresh.t(table))
            cursor.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(live, old))
            cursor.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(fresh.t(table), live))
            cursor.execute(sql.SQL("DROP TABLE {}").format(old))
        cursor.execute("UPDATE projection_tracking SET position = %s, last_error = NULL, updated_at = now() "
                       "WHERE projection = %s", (position, name))
        cursor.execute("DELETE FROM projection_parked WHERE projection = %s", (name,))
        cursor.execute("UPDATE projection_parked SET projection = %s WHERE projection = %s",
                       (name, fresh.name))
        cursor.execute("DELETE FROM projection_tracking WHERE projection = %s", (fresh.name,))
    return int(position)


# `LIKE … INCLUDING ALL` copies no privileges: without this a rebuilt read model would lose e.g.
# the dashboards' reader role's SELECT (`pdm migrate`, PostgresSettings.reader_role).
TABLE_GRANTS = """
SELECT a.privilege_type, CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END
FROM pg_class c, aclexplode(c.relacl) a
WHERE c.oid = to_regclass(%s) AND a.grantee <> c.relowner"""


def copy_grants(cursor: psycopg.Cursor[Any], source: sql.Identifier, target: sql.Composable) -> None:
    """The privileges others hold on `source`, granted on `target` too."""
    for privilege, grantee in cursor.execute(TABLE_GRANTS, (source.as_string(cursor),)).fetchall():
        to = sql.SQL("PUBLIC") if grantee is None else sql.Identifier(grantee)
        cursor.execute(sql.SQL("GRANT {} ON {} TO {}").format(sql.SQL(privilege), target, to))
