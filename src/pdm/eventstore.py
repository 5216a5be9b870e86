"""The event store: pdm's domain application on PostgreSQL through the eventsourcing library."""

from __future__ import annotations

from psycopg.conninfo import conninfo_to_dict

from pdm.domain.application import PdmApplication
from pdm.infra.database import connect
from pdm.infra.migrations import LOCK_KEY
from pdm.settings import PostgresSettings

EVENT_TABLES_LOCK = LOCK_KEY + 1


def event_store_env(pg: PostgresSettings, *, create_table: bool = False) -> dict[str, str]:
    """Every key the library reads, given explicitly: the library also reads os.environ and
    prefers `PDM_<KEY>` over `<KEY>`, so nothing is left for a stray variable to decide."""
    params = conninfo_to_dict(pg.conninfo())
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(params.get("dbname") or "postgres"),
        "POSTGRES_HOST": str(params.get("host") or "localhost"),
        "POSTGRES_PORT": str(params.get("port") or "5432"),
        "POSTGRES_USER": str(params.get("user") or "postgres"),
        "POSTGRES_PASSWORD": str(params.get("password") or ""),
        "POSTGRES_SCHEMA": pg.schema_name,
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": str(min(pg.pool_max_size, 5)),
        # With db functions on, 9.5.6 drops tracking records and lets tailing readers skip events.
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        "CREATE_TABLE": "y" if create_table else "n",
    }
    return {**env, **{f"PDM_{key}": value for key, value in env.items()}}


def open_application(pg: PostgresSettings) -> PdmApplication:
    """Services never create tables: `pdm migrate` did, before any service started."""
    return PdmApplication(env=event_store_env(pg))


def create_event_tables(pg: PostgresSettings) -> None:
    """The library's own DDL (CREATE … IF NOT EXISTS), serialised so concurrent migrates agree."""
    with connect(pg.conninfo(), pg.schema_name, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (EVENT_TABLES_LOCK,))
        try:
            PdmApplication(env=event_store_env(pg, create_table=True)).close()
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (EVENT_TABLES_LOCK,))
