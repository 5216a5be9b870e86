"""Session-wide real infrastructure: one broker and one PostgreSQL for the whole test run.

Tests isolate themselves by schema (PostgreSQL) and topic prefix (Kafka), never by restarting
servers. Set PDM_KAFKA__BOOTSTRAP_SERVERS / PDM_POSTGRES__URL to test against existing servers.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pdm.infra.broker import EmbeddedBroker
from pdm.infra.database import start_embedded_postgres, stop_embedded_postgres
from pdm.settings import KafkaSettings, PostgresSettings, Settings, load_settings

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def bootstrap_servers(base_settings: Settings) -> Iterator[str]:
    if not base_settings.kafka.embedded:
        yield str(base_settings.kafka.bootstrap_servers)
        return
    broker = EmbeddedBroker()
    yield broker.start()
    broker.stop()


@pytest.fixture(scope="session")
def postgres_conninfo(base_settings: Settings) -> Iterator[str]:
    if not base_settings.postgres.embedded:
        yield base_settings.postgres.conninfo()
        return
    data_dir = Path(tempfile.mkdtemp(prefix="pdm-test-pg-")) / "data"
    yield start_embedded_postgres(data_dir)
    stop_embedded_postgres(data_dir)
    shutil.rmtree(data_dir.parent, ignore_errors=True)


@pytest.fixture
def schema(postgres_conninfo: str) -> Iterator[str]:
    """A fresh schema per test, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    yield name
    with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{name}" CASCADE')


@pytest.fixture
def topic_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
def settings(
    bootstrap_servers: str, postgres_conninfo: str, schema: str, topic_prefix: str,
    tmp_path: Path,
) -> Settings:
    """Settings of one isolated test: its own schema, topic prefix and data directory."""
    return Settings(
        data_dir=tmp_path / "data",
        kafka=KafkaSettings(bootstrap_servers=bootstrap_servers, topic_prefix=topic_prefix),
        postgres=PostgresSettings(url=postgres_conninfo, schema_name=schema),  # type: ignore[arg-type]
    )


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment a child process needs to see the same isolated settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PDM_")}
    env.update({
        "PDM_DATA_DIR": str(settings.data_dir),
        "PDM_KAFKA__BOOTSTRAP_SERVERS": str(settings.kafka.bootstrap_servers),
        "PDM_KAFKA__TOPIC_PREFIX": settings.kafka.topic_prefix,
        "PDM_POSTGRES__URL": settings.postgres.conninfo(),
        "PDM_POSTGRES__SCHEMA_NAME": settings.postgres.schema_name,
        "PDM_LOG_FORMAT": "json",
    })
    return env
