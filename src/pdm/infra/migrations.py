"""Forward-only SQL migrations: numbered files, a checksum per applied file, one runner at a time."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from pdm.infra.database import connect, ensure_schema
from pdm.logs import get_logger

FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Arbitrary but fixed: every pdm process that migrates takes this advisory lock first.
LOCK_KEY = 0x70646D_6D6967
log = get_logger(__name__)


class MigrationError(Exception):
    """A migration file is malformed, was edited after being applied, or failed to apply."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def migrations_dir() -> Path:
    """Installed wheels carry the files inside the package; a checkout has them at the top level."""
    packaged = Path(__file__).resolve().parents[1] / "_migrations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "migrations"


def discover(directory: Path | None = None) -> list[Migration]:
    directory = directory or migrations_dir()
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = FILE_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: name must look like 0001_description.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"{directory}: two migrations share a version number")
    return found


CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


def migrate(
    conninfo: str, schema: str = "public", directory: Path | None = None,
    on_applied: Callable[[Migration], None] | None = None, reader_role: str = "",
) -> list[Migration]:
    """Apply pending migrations in order; refuse to run if an applied file has changed. Then, if
    `reader_role` names an existing role, grant it read access to the read models."""
    pending = discover(directory)
    ensure_schema(conninfo, schema)
    with connect(conninfo, schema, autocommit=True) as conn:
        # Session-level lock: two services starting together apply each file exactly once.
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            conn.execute(CREATE_LEDGER)
            applied = dict(conn.execute("SELECT version, checksum FROM schema_migrations").fetchall())
            _verify_checksums(pending, applied)
            done = []
            for migration in (m for m in pending if m.version not in applied):
                _apply(conn, migration)
                done.append(migration)
                if on_applied:
                    on_applied(migration)
            if reader_role:
                granted = grant_read_models(conn, schema, reader_role)
                log.info("read_models_granted" if granted is not None else "reader_role_absent",
                         role=reader_role, tables=granted)
            return done
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))


# The dashboards' tables: every read model and how far each projection has got. Never the event
# store, the archives, API keys or model artifacts.
READ_MODEL_TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v')
  AND (c.relname LIKE 'rm\\_%%' OR c.relname = 'projection_tracking')
ORDER BY 1"""


def grant_read_models(conn: psycopg.Connection, schema: str, role: str) -> int | None:
    """SELECT on the read models for `role`, if it exists (None if not); idempotent, so a table a
    later migration adds is granted on the next run. Returns how many tables it covers."""
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None:
        return None
    tables = [row[0] for row in conn.execute(READ_MODEL_TABLES, (schema,)).fetchall()]
    grantee, namespace = sql.Identifier(role), sql.Identifier(schema)
    with conn.transaction():
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(namespace, grantee))
        for table in tables:
            target = sql.Identifier(schema, table)
            conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(target, grantee))
    return len(tables)


def _verify_checksums(migrations: list[Migration], applied: dict[int, str]) -> None:
    for migration in migrations:
        recorded = applied.get(migration.version)
        if recorded is not None and recorded != migration.checksum:
            raise MigrationError(
                f"{migration.path.name} was edited after it was applied; "
                "add a new migration instead of changing an applied one"
            )


def _apply(conn: psycopg.Connection, migration: Migration) -> None:
    try:
        with conn.transaction():
            conn.execute(sql.SQL(migration.path.read_text()))  # type: ignore[arg-type]
            conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
    except psycopg.Error as exc:
        raise MigrationError(f"{migration.path.name} failed: {exc}".strip()) from None


def status(conninfo: str, schema: str = "public") -> tuple[list[int], list[Migration]]:
    """Applied versions and the migrations still pending."""
    with connect(conninfo, schema, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('schema_migrations')").fetchone()
        applied = (
            [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
            if exists and exists[0] else []
        )
    return applied, [m for m in discover() if m.version not in applied]
