"""The bench's own infrastructure: a fresh broker, PostgreSQL (configured or embedded), a schema."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from pdm.infra.broker import EmbeddedBroker
from pdm.infra.database import start_embedded_postgres, stop_embedded_postgres
from pdm.infra.migrations import migrate
from pdm.settings import KafkaSettings, PostgresSettings, Settings


@dataclass(frozen=True)
class BenchInfra:
    """Where one bench run lives: its own broker, a schema it drops, a scratch directory."""

    bootstrap_servers: str
    postgres: PostgresSettings
    scratch: Path
    embedded_postgres: bool

    def settings(self, topic_prefix: str) -> Settings:
        """Settings of one phase; phases isolate themselves by topic prefix."""
        return Settings(
            data_dir=self.scratch / "data",
            kafka=KafkaSettings(bootstrap_servers=self.bootstrap_servers, topic_prefix=topic_prefix),
            postgres=self.postgres,
        )


@contextmanager
def bench_infra(base: Settings) -> Iterator[BenchInfra]:
    """Everything started here is stopped and removed on the way out, failure or not."""
    with ExitStack() as stack:
        scratch = Path(tempfile.mkdtemp(prefix="pdm-bench-"))
        stack.callback(shutil.rmtree, scratch, True)
        broker = EmbeddedBroker()
        stack.callback(broker.stop)
        bootstrap = broker.start()
        conninfo = _postgres(base, scratch, stack)
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        postgres = PostgresSettings(url=conninfo, schema_name=schema)  # type: ignore[arg-type]
        stack.callback(_drop_schema, conninfo, schema)
        migrate(conninfo, schema)
        yield BenchInfra(bootstrap, postgres, scratch, base.postgres.embedded)


def _postgres(base: Settings, scratch: Path, stack: ExitStack) -> str:
    if not base.postgres.embedded:
        return base.postgres.conninfo()
    data_dir = scratch / "postgres"
    conninfo = start_embedded_postgres(data_dir)
    stack.callback(stop_embedded_postgres, data_dir)
    return conninfo


def _drop_schema(conninfo: str, schema: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
