"""Migrations apply once, in order, under a lock, and refuse edited history (real PostgreSQL)."""

import shutil
import threading
from pathlib import Path

import psycopg
import pytest

from pdm.infra.migrations import MigrationError, migrate, migrations_dir, status

pytestmark = pytest.mark.integration


def test_pending_migrations_apply_once_and_then_nothing_is_pending(
    postgres_conninfo: str, schema: str
) -> None:
    first = migrate(postgres_conninfo, schema)

    second = migrate(postgres_conninfo, schema)

    assert first and second == []
    applied, pending = status(postgres_conninfo, schema)
    assert applied == [m.version for m in first] and pending == []


def test_an_applied_file_that_was_edited_is_refused(
    postgres_conninfo: str, schema: str, tmp_path: Path
) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), directory)
    migrate(postgres_conninfo, schema, directory)
    first = sorted(directory.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")

    with pytest.raises(MigrationError, match=f"{first.name} was edited after it was applied"):
        migrate(postgres_conninfo, schema, directory)


def test_two_services_migrating_together_apply_each_file_once(
    postgres_conninfo: str, schema: str
) -> None:
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(len(migrate(postgres_conninfo, schema)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(results) == [0, 0, 0, len(list(migrations_dir().glob("*.sql")))]


def test_a_failing_migration_leaves_nothing_half_applied(
    postgres_conninfo: str, schema: str, tmp_path: Path
) -> None:
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE a (x int);")
    (tmp_path / "0002_bad.sql").write_text("CREATE TABLE b (x int); SELECT no_such_function();")

    with pytest.raises(MigrationError, match="0002_bad.sql failed"):
        migrate(postgres_conninfo, schema, tmp_path)

    with psycopg.connect(postgres_conninfo, options=f"-c search_path={schema}") as conn:
        tables = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,))}
    assert "a" in tables and "b" not in tables


def test_archive_partitions_are_created_on_demand(postgres_conninfo: str, schema: str) -> None:
    migrate(postgres_conninfo, schema)

    with psycopg.connect(postgres_conninfo, options=f"-c search_path={schema}") as conn:
        conn.execute("SELECT readings_archive_ensure_month('2026-11-01')")
        conn.execute("SELECT readings_archive_ensure_month('2026-11-01')")
        conn.execute(
            "INSERT INTO readings_archive (asset_id, ts, reading_id, channels, vals) "
            "VALUES ('pump-1', '2026-11-21T10:00:00Z', gen_random_uuid(), '{t}', '{1.5}')")
        count = conn.execute("SELECT count(*) FROM readings_archive_2026_11").fetchone()

    assert count == (1,)


def test_the_reader_role_may_read_the_read_models_and_nothing_else(
    postgres_conninfo: str, schema: str, reader_role: tuple[str, str]
) -> None:
    role, as_reader = reader_role
    migrate(postgres_conninfo, schema, reader_role="pdm_no_such_role")  # absent: nothing granted, no error

    migrate(postgres_conninfo, schema, reader_role=role)

    with psycopg.connect(as_reader, options=f"-c search_path={schema}", autocommit=True) as conn:
        for table in ("rm_asset_health", "rm_alerts", "rm_models", "rm_fleet_summary", "projection_tracking"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
        for statement in ("SELECT count(*) FROM api_keys", "SELECT count(*) FROM readings_archive",
                          "SELECT count(*) FROM schema_migrations",
                          "INSERT INTO rm_fleet_summary VALUES ('s', 'ok', 1, 0)", "DELETE FROM rm_alerts"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
