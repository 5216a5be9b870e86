"""The event store: pdm's domain application on PostgreSQL through the eventsourcing library."""

from __future__ import annotations

import math
from typing import Any

from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder, PostgresFactory
from psycopg.conninfo import conninfo_to_dict

from pdm.domain.application import PdmApplication
from pdm.infra.database import connect
from pdm.infra.migrations import LOCK_KEY
from pdm.settings import PostgresSettings

EVENT_TABLES_LOCK = LOCK_KEY + 1


class NamedPostgresFactory(PostgresFactory):
    """The library's factory, with its pool's connections named (`application_name`), so
    pg_stat_activity tells the command side's pool from the read pool and the projector's."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        name = self.env.get("POSTGRES_APPLICATION_NAME")
        if name:  # the pool has not connected yet: the recorder opens it after the factory
            self.datastore.pool.kwargs["application_name"] = name


class FailFastRecorder(PostgresApplicationRecorder):
    """Each statement once. The library retries a failed one ten times, 0.2 s apart, each try
    waiting up to the pool's timeout: a minute before a request learns the database is gone.
    The API wants the first failure, answers 503 with Retry-After, and its client retries."""

    insert_events = PostgresApplicationRecorder.insert_events.__wrapped__  # type: ignore[attr-defined]
    select_events = PostgresAggregateRecorder.select_events.__wrapped__  # type: ignore[attr-defined]
    select_notifications = PostgresApplicationRecorder.select_notifications.__wrapped__  # type: ignore[attr-defined]
    max_notification_id = PostgresApplicationRecorder.max_notification_id.__wrapped__  # type: ignore[attr-defined]


def event_store_env(pg: PostgresSettings, *, create_table: bool = False, application_name: str = "pdm",
                    retry_statements: bool = True) -> dict[str, str]:
    """Every key the library reads, given explicitly: the library also reads os.environ and
    prefers `PDM_<KEY>` over `<KEY>`, so nothing is left for a stray variable to decide."""
    params = conninfo_to_dict(pg.conninfo())
    env = {
        "PERSISTENCE_MODULE": f"{__name__}:{NamedPostgresFactory.__name__}",
        "POSTGRES_DBNAME": str(params.get("dbname") or "postgres"),
        "POSTGRES_HOST": str(params.get("host") or "localhost"),
        "POSTGRES_PORT": str(params.get("port") or "5432"),
        "POSTGRES_USER": str(params.get("user") or "postgres"),
        "POSTGRES_PASSWORD": str(params.get("password") or ""),
        "POSTGRES_SCHEMA": pg.schema_name,
        # The pool's wait for a connection, then OperationalError (503); the library reads an int.
        "POSTGRES_CONNECT_TIMEOUT": str(math.ceil(pg.pool_timeout_s)),
        "POSTGRES_POOL_SIZE": str(min(pg.pool_max_size, 5)),
        # With db functions on, 9.5.6 drops tracking records and lets tailing readers skip events.
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        "CREATE_TABLE": "y" if create_table else "n",
        "POSTGRES_APPLICATION_NAME": application_name,
    }
    if not retry_statements:
        env["APPLICATION_RECORDER_TOPIC"] = f"{__name__}:{FailFastRecorder.__name__}"
    return {**env, **{f"PDM_{key}": value for key, value in env.items()}}


def open_application(pg: PostgresSettings, application_name: str = "pdm", *,
                     retry_statements: bool = True) -> PdmApplication:
    """Services never create tables: `pdm migrate` did, before any service started. Background
    services keep the library's statement retries; request handlers fail fast instead."""
    env = event_store_env(pg, application_name=application_name, retry_statements=retry_statements)
    return PdmApplication(env=env)


def create_event_tables(pg: PostgresSettings) -> None:
    """The library's own DDL (CREATE … IF NOT EXISTS), serialised so concurrent migrates agree."""
    with connect(pg.conninfo(), pg.schema_name, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (EVENT_TABLES_LOCK,))
        try:
            PdmApplication(env=event_store_env(pg, create_table=True)).close()
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (EVENT_TABLES_LOCK,))
