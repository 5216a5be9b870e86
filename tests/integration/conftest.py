"""Integration helpers: a real stream worker process and readers of what it produced."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Self

import httpx
import psycopg
import pytest
from aiokafka import AIOKafkaConsumer
from psycopg import sql
from psycopg.conninfo import make_conninfo

from pdm.infra.api_keys import SCOPES, ApiKeyStore
from pdm.infra.broker import free_port
from pdm.infra.kafka import client_options
from pdm.infra.migrations import migrate
from pdm.settings import Settings
from tests.conftest import settings_env


class ServiceProcess:
    """A pdm service as a child process with the test's isolated settings; killable, restartable."""

    argv: tuple[str, ...] = ()

    def __init__(self, settings: Settings, log_path: Path, **env: str) -> None:
        self.settings, self.log_path, self.extra_env = settings, log_path, env
        self.proc: subprocess.Popen[bytes] | None = None

    def environment(self) -> dict[str, str]:
        return {**settings_env(self.settings), **self.extra_env}

    def start(self) -> Self:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, *self.argv], env=self.environment(),
                                         stdout=log, stderr=log)
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


class WorkerProcess(ServiceProcess):
    """`python -m streams`, with its health page on a port of its own."""

    argv = ("-m", "streams")

    def __init__(self, settings: Settings, log_path: Path, **env: str) -> None:
        super().__init__(settings, log_path, **env)
        self.port = free_port()

    def environment(self) -> dict[str, str]:
        return {**settings_env(self.settings), "PDM_WORKER__WEB_PORT": str(self.port), **self.extra_env}

    def health(self) -> dict:  # type: ignore[type-arg]
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).json()  # type: ignore[no-any-return]
        except (httpx.HTTPError, ValueError):
            return {}


@pytest.fixture
def worker(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(**env: str) -> WorkerProcess:
        process = WorkerProcess(settings, tmp_path / "worker.log", **env).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def grant_all_scopes(settings: Settings, name: str = "test-suite") -> dict[str, str]:
    """Headers with a fresh key holding every scope, in the settings' schema (migrated first)."""
    pg = settings.postgres
    migrate(pg.conninfo(), pg.schema_name)
    token, _ = ApiKeyStore(pg.conninfo(), pg.schema_name).create(name, SCOPES)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth_headers(settings: Settings) -> dict[str, str]:
    """Every API route but health needs a key; this one may do everything."""
    return grant_all_scopes(settings)


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout_s}s")


def archive_count(settings: Settings, where: str = "TRUE") -> int:
    with psycopg.connect(settings.postgres.conninfo(),
                         options=f"-c search_path={settings.postgres.schema_name}") as conn:
        row = conn.execute(f"SELECT count(*) FROM readings_archive WHERE {where}").fetchone()
    return int(row[0]) if row else 0


def archive_duplicates(settings: Settings) -> int:
    with psycopg.connect(settings.postgres.conninfo(),
                         options=f"-c search_path={settings.postgres.schema_name}") as conn:
        row = conn.execute("SELECT count(*) - count(DISTINCT (reading_id, revision)) "
                           "FROM readings_archive").fetchone()
    return int(row[0]) if row else 0


async def read_topic(settings: Settings, topic: str, expect: int, timeout_s: float = 30) -> list[bytes]:
    """Every message of a topic from the beginning, until `expect` arrived or time ran out."""
    consumer = AIOKafkaConsumer(settings.kafka.topic(topic), auto_offset_reset="earliest",
                                enable_auto_commit=False, **client_options(settings.kafka))
    await consumer.start()
    values: list[bytes] = []
    try:
        deadline = time.monotonic() + timeout_s
        while len(values) < expect and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            values += [r.value for part in batches.values() for r in part if r.value is not None]
        await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return values


@pytest.fixture
def reader_role(postgres_conninfo: str, schema: str) -> Iterator[tuple[str, str]]:
    """A login role of its own (roles are per server) and the conninfo to log in as it; its
    privileges and the role itself are dropped before the schema is."""
    role, password = f"pdm_reader_{uuid.uuid4().hex[:10]}", uuid.uuid4().hex
    with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), password))
    yield role, make_conninfo(postgres_conninfo, user=role, password=password)
    with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
