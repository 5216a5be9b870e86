"""The API's readiness and the stream worker's group join, against the real broker and database."""

import asyncio
import os
import subprocess
import sys
import time

import httpx
import pytest

from pdm.api.app import create_app
from pdm.infra.broker import BrokerUnavailableError, check_kafka, free_port
from pdm.infra.migrations import migrate
from pdm.settings import KafkaSettings, Settings
from tests.conftest import settings_env

pytestmark = pytest.mark.integration


async def test_broker_check_speaks_kafka(bootstrap_servers: str) -> None:
    await check_kafka(bootstrap_servers)


async def test_unreachable_broker_is_reported_with_its_address() -> None:
    port = free_port()

    with pytest.raises(BrokerUnavailableError, match=f"cannot reach Kafka at 127.0.0.1:{port}"):
        await check_kafka(f"127.0.0.1:{port}", timeout=2)


async def _get(settings: Settings, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as client:
        return await client.get(path)


async def test_ready_when_broker_and_migrated_database_answer(settings: Settings) -> None:
    migrate(settings.postgres.conninfo(), settings.postgres.schema_name)

    response = await _get(settings, "/readyz")

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "checks": {"broker": "ok", "database": "ok"}}


async def test_not_ready_while_migrations_are_pending(settings: Settings) -> None:
    response = await _get(settings, "/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("migrations pending")
    assert response.headers["retry-after"] == "5"


async def test_not_ready_when_the_broker_is_down(settings: Settings) -> None:
    migrate(settings.postgres.conninfo(), settings.postgres.schema_name)
    down = settings.model_copy(
        update={"kafka": KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}")})

    response = await _get(down, "/readyz")

    assert response.status_code == 503
    assert "cannot reach Kafka" in response.json()["checks"]["broker"]


async def test_unknown_route_is_a_json_error_with_a_stable_code(
    settings: Settings, auth_headers: dict[str, str]
) -> None:
    response = await _get(settings, "/v1/nothing-here", auth_headers)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_stream_worker_joins_its_group_within_seconds(settings: Settings) -> None:
    port = free_port()
    env = {**settings_env(settings), "PDM_WORKER__WEB_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "streams"], env=env,
                            stdout=subprocess.DEVNULL, stderr=None)
    try:
        health = await _poll_joined(port, deadline_s=45)
    finally:
        proc.terminate()
        proc.wait(15)

    assert health["status"] == "ok" and health["assigned_partitions"] > 0
    assert health["joined_after_s"] < 15


async def _poll_joined(port: int, deadline_s: float) -> dict[str, object]:
    deadline = time.monotonic() + deadline_s
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                body = (await client.get(f"http://127.0.0.1:{port}/healthz")).json()
                if body.get("joined_after_s") is not None:
                    return body  # type: ignore[no-any-return]
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.25)
    raise AssertionError(f"worker did not join within {deadline_s}s (env {os.environ.get('CI')})")
