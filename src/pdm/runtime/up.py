"""`pdm up`: infrastructure, migrations, then every service under one supervisor."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from pydantic import SecretStr

from pdm.eventstore import create_event_tables
from pdm.infra.api_keys import SCOPES, ApiKeyStore, parse_token
from pdm.infra.broker import free_port
from pdm.infra.migrations import migrate
from pdm.infra.stack import Endpoints, Stack, state_path, write_state
from pdm.logs import get_logger
from pdm.runtime.supervisor import ServiceSpec, Supervisor
from pdm.settings import Settings

log = get_logger(__name__)
DEV_KEY_FILE = "dev-api-key"


def service_specs(settings: Settings, endpoints: Endpoints) -> list[ServiceSpec]:
    """The services `pdm up` runs; each is the same command a container would run."""
    env = endpoints.child_env()
    if settings.log_format == "auto" and sys.stdout.isatty():
        env["PDM_LOG_FORMAT"] = "console"
    worker_port = settings.worker.web_port or free_port()
    return [
        ServiceSpec("api", [sys.executable, "-m", "pdm", "api"], env),
        ServiceSpec("worker", [sys.executable, "-m", "streams"],
                    {**env, "PDM_WORKER__WEB_PORT": str(worker_port)}),
        ServiceSpec("projector", [sys.executable, "-m", "projections"], env),
        ServiceSpec("saga", [sys.executable, "-m", "pdm", "saga"], env),
    ]


async def run_up(settings: Settings) -> None:
    stack = Stack(settings)
    endpoints = await asyncio.to_thread(stack.start)
    # Recorded like `pdm infra up` does, so `pdm publish` or `pdm simulate` in another terminal
    # find the embedded broker and database this stack started.
    owns_state = stack.broker is not None or stack.started_postgres
    if owns_state:
        write_state(settings, endpoints)
    try:
        log.info("infrastructure_ready", kafka=endpoints.bootstrap_servers,
                 embedded_kafka=settings.kafka.embedded, embedded_postgres=settings.postgres.embedded)
        applied = await asyncio.to_thread(
            migrate, endpoints.postgres_conninfo, settings.postgres.schema_name,
            reader_role=settings.postgres.reader_role)
        pg = settings.postgres.model_copy(update={"url": SecretStr(endpoints.postgres_conninfo)})
        await asyncio.to_thread(create_event_tables, pg)
        log.info("migrations_current", applied_now=len(applied))
        if settings.environment == "development" and settings.api.auth == "required":
            path = await asyncio.to_thread(ensure_dev_key, settings, endpoints.postgres_conninfo)
            log.info("dev_api_key_ready", path=str(path),
                     usage=f'curl -H "Authorization: Bearer $(cat {path})" ...')
        log.info("api_listening", url=f"http://{settings.api.host}:{settings.api.port}")
        await Supervisor(service_specs(settings, endpoints)).run()
    finally:
        await asyncio.to_thread(stack.stop)
        if owns_state:
            state_path(settings).unlink(missing_ok=True)
        log.info("stack_stopped")


def ensure_dev_key(settings: Settings, conninfo: str) -> Path:
    """A development key with every scope, kept in the data directory (mode 0600) and reused
    while the database still holds it, so `make up` + curl needs no key setup."""
    path = settings.data_dir / DEV_KEY_FILE
    store = ApiKeyStore(conninfo, settings.postgres.schema_name)
    parsed = parse_token(path.read_text().strip()) if path.exists() else None
    if parsed is not None and parsed[0] in store.active():
        return path
    token, _ = store.create("development", SCOPES)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(token + "\n")
    return path
