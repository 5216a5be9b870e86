"""Resolve the broker and database a process should use: configured ones, or embedded ones."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from pdm.infra.broker import BrokerUnavailableError, EmbeddedBroker, check_kafka, stop_pid
from pdm.infra.database import (
    DatabaseUnavailableError,
    check_postgres,
    start_embedded_postgres,
    stop_embedded_postgres,
)
from pdm.settings import Settings

STATE_FILE = "infra.json"


@dataclass
class Endpoints:
    """Where the services find the broker and the database, as child-process environment."""

    bootstrap_servers: str
    postgres_conninfo: str
    broker_pid: int | None = None
    postgres_data_dir: str | None = None

    def child_env(self) -> dict[str, str]:
        return {
            "PDM_KAFKA__BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "PDM_POSTGRES__URL": self.postgres_conninfo,
        }


def state_path(settings: Settings) -> Path:
    return settings.data_dir / STATE_FILE


def read_state(settings: Settings) -> Endpoints | None:
    """Endpoints of an embedded stack left running by `pdm infra up`, if it is still alive."""
    path = state_path(settings)
    if not path.exists():
        return None
    endpoints = Endpoints(**json.loads(path.read_text()))
    if endpoints.broker_pid is not None and not _alive(endpoints.broker_pid):
        return None
    return endpoints


def write_state(settings: Settings, endpoints: Endpoints) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    state_path(settings).write_text(json.dumps(asdict(endpoints), indent=2))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Stack:
    """The broker and database of one `pdm up` or `pdm infra up`; owns what it started."""

    def __init__(self, settings: Settings, *, detached: bool = False) -> None:
        self.settings = settings
        self.detached = detached
        self.broker: EmbeddedBroker | None = None
        self.started_postgres = False

    def start(self) -> Endpoints:
        """Start or reach both; on failure, stop whatever this call started."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> Endpoints:
        reused = read_state(self.settings)
        bootstrap = self._broker(reused)
        conninfo = self._postgres(reused)
        endpoints = Endpoints(
            bootstrap, conninfo,
            broker_pid=self.broker.process.pid if self.broker and self.broker.process else None,
            postgres_data_dir=str(self.pg_data_dir) if self.started_postgres else None,
        )
        try:
            asyncio.run(check_kafka(bootstrap))
        except BrokerUnavailableError as exc:
            raise BrokerUnavailableError(f"{self._kafka_source()}: {exc}") from None
        try:
            check_postgres(conninfo, self.settings.postgres.schema_name)
        except DatabaseUnavailableError as exc:
            raise DatabaseUnavailableError(f"{self._postgres_source()}: {exc}") from None
        return endpoints

    def _kafka_source(self) -> str:
        return "embedded broker" if self.settings.kafka.embedded else "PDM_KAFKA__BOOTSTRAP_SERVERS"

    def _postgres_source(self) -> str:
        pg = self.settings.postgres
        if pg.embedded:
            return "embedded PostgreSQL"
        return "PDM_POSTGRES__URL" if pg.url is not None else "PDM_POSTGRES__HOST"

    @property
    def pg_data_dir(self) -> Path:
        return (self.settings.data_dir / "postgres").resolve()

    def _broker(self, reused: Endpoints | None) -> str:
        if not self.settings.kafka.embedded:
            return str(self.settings.kafka.bootstrap_servers)
        if reused is not None and reused.broker_pid is not None:
            return reused.bootstrap_servers
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.broker = EmbeddedBroker(
            log_path=(self.settings.data_dir / "broker.log").resolve(), detached=self.detached
        )
        return self.broker.start()

    def _postgres(self, reused: Endpoints | None) -> str:
        if not self.settings.postgres.embedded:
            return self.settings.postgres.conninfo()
        if reused is not None and reused.postgres_data_dir is not None:
            return reused.postgres_conninfo
        self.started_postgres = True
        return start_embedded_postgres(self.pg_data_dir, stop_at_exit=not self.detached)

    def stop(self) -> None:
        if self.broker is not None:
            self.broker.stop()
        if self.started_postgres:
            stop_embedded_postgres(self.pg_data_dir)


def stop_detached(settings: Settings) -> bool:
    """Stop what `pdm infra up` left running; True if there was anything."""
    path = state_path(settings)
    if not path.exists():
        return False
    endpoints = Endpoints(**json.loads(path.read_text()))
    if endpoints.broker_pid is not None:
        stop_pid(endpoints.broker_pid)
    if endpoints.postgres_data_dir is not None:
        stop_embedded_postgres(Path(endpoints.postgres_data_dir))
    path.unlink()
    return True
