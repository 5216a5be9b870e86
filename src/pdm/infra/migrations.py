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

FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Arbitrary but fixed: every pdm process that migrates takes this advisory lock first.
LOCK_KEY = 0x70646D_6D6967


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
    on_applied: Callable[[Migration], None] | None = None,
) -> list[Migration]:
    """Apply pending migrations in order; refuse to run if an applied file has changed."""
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
            return done
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))


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
