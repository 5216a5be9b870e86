"""Admission limits on a real uvicorn socket: live streams, event-store threads and open connections
each have a bound, and past it the API answers a JSON 503 with Retry-After at once."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import httpx
import psycopg
import pytest

from pdm.api.app import create_app
from pdm.api.connection_limit import connection_limit
from pdm.domain.application import PdmApplication
from pdm.infra.kafka import ensure_topics
from pdm.settings import ApiSettings, RateLimits, Settings
from tests.integration.security.serving import serving, timed

pytestmark = pytest.mark.integration
LIVE = "/v1/live/assets/pump-1/scores?poll=0.2"


def with_api(settings: Settings, **api: object) -> Settings:
    limits = RateLimits(ingest=0, read=0, operate=0, admin=0)
    return settings.model_copy(update={"api": ApiSettings(rate_limits=limits, **api)})  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def live_stream(url: str, headers: dict[str, str]) -> AsyncIterator[httpx.Response]:
    """A `/v1/live` stream on a connection of its own, open once its first bytes arrived."""
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as http, \
            http.stream("GET", LIVE) as response:
        assert response.status_code == 200, await response.aread()
        chunks = response.aiter_raw()  # kept: a collected iterator would close the stream
        await anext(chunks)  # the `retry:` line: the server holds the slot now
        yield response


async def until_status(http: httpx.AsyncClient, path: str, status: int, timeout_s: float) -> float:
    """Seconds until `path` answered `status` (each answer's body discarded unread)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        async with http.stream("GET", path) as response:
            if response.status_code == status:
                return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path} did not answer {status} within {timeout_s}s")


def assert_refused(response: httpx.Response, code: str, retry_after: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["retry-after"] == retry_after
    body = response.json()
    assert body["code"] == code and set(body) == {"code", "message", "details"}, body


async def test_live_stream_past_the_limit_is_refused_until_a_client_hangs_up(
    settings: Settings, domain: PdmApplication, auth_headers: dict[str, str],
) -> None:
    async with serving(create_app(with_api(settings, live_max_streams=2))) as url, \
            httpx.AsyncClient(base_url=url, headers=auth_headers, timeout=10) as http, \
            live_stream(url, auth_headers):
        async with live_stream(url, auth_headers):
            refused = await http.get(LIVE)
            metrics = (await http.get("/metrics")).text
        freed_in = await until_status(http, LIVE, 200, timeout_s=5)

    assert_refused(refused, "live_streams_exhausted", "5")
    assert refused.json()["details"] == {"limit": 2, "held": 2, "requested": 1}
    for line in ('pdm_api_admission_limit{budget="live_streams"} 2.0',
                 'pdm_api_admission_held{budget="live_streams"} 2.0',
                 'pdm_api_admission_refused_total{budget="live_streams"} 1.0'):
        assert line in metrics.splitlines(), line
    assert freed_in < 3, f"the slot came back {freed_in:.1f}s after the client hung up"


async def test_command_burst_past_its_threads_and_queue_is_refused_while_readiness_answers(
    settings: Settings, domain: PdmApplication, auth_headers: dict[str, str], postgres_conninfo: str,
) -> None:
    """Readiness checks the database on the default thread pool (6 threads on two cores); when
    commands ran there, a burst of 8 stuck commands left it no thread and it timed out."""
    await ensure_topics(settings.kafka)
    app_settings = with_api(settings, command_threads=2, command_max_queued=3)
    burst = [{"asset_id": f"press-{n}", "site": "plant-9", "kind": "press"} for n in range(8)]
    async with serving(create_app(app_settings)) as url, \
            httpx.AsyncClient(base_url=url, headers=auth_headers, timeout=30) as http:
        assert (await http.get("/readyz")).status_code == 200
        with psycopg.connect(postgres_conninfo, options=f"-c search_path={settings.postgres.schema_name}") as lock:
            lock.execute("LOCK TABLE pdm_events IN ACCESS EXCLUSIVE MODE")  # every event-store call waits
            commands = [asyncio.create_task(timed(http.post("/v1/assets", json=body))) for body in burst]
            done, _ = await asyncio.wait(commands, timeout=3)
            started = time.monotonic()
            ready = await http.get("/readyz")
            ready_s = time.monotonic() - started
            during = (await http.get("/metrics")).text.splitlines()
            lock.rollback()
        answers = [response for response, _ in await asyncio.gather(*commands)]
        after = (await http.get("/metrics")).text.splitlines()

    refused = [r for r in answers if r.status_code == 503]
    assert len(refused) == len(done) == 3, [r.text for r in answers]  # those answered during the lock
    for task in done:
        response, took = task.result()
        assert_refused(response, "commands_overloaded", "2")
        assert response.json()["details"]["limit"] == 5 and took < 1.5, took
    assert sorted(r.status_code for r in answers if r not in refused) == [200] * 5  # queued, then served
    assert ready.status_code == 200 and ready_s < 2.0, (ready.text, ready_s)
    assert 'pdm_api_admission_held{budget="commands"} 5.0' in during  # 2 running, 3 queued
    assert 'pdm_api_admission_refused_total{budget="commands"} 3.0' in during
    assert {'pdm_api_admission_held{budget="commands"} 0.0', 'pdm_api_admission_peak{budget="commands"} 5.0'} \
        <= set(after)


async def test_connection_past_the_limit_answers_json_503_with_retry_after(
    settings: Settings, domain: PdmApplication, auth_headers: dict[str, str],
) -> None:
    app_settings = with_api(settings, max_connections=2)
    app = create_app(app_settings)
    async with serving(app, **connection_limit(app_settings.api, app.state.metrics.connections_refused.inc)) as url:
        async with live_stream(url, auth_headers), live_stream(url, auth_headers), \
                httpx.AsyncClient(base_url=url, timeout=10) as third:
            refused = await third.get("/healthz")
        async with httpx.AsyncClient(base_url=url, timeout=10) as again:
            served_in = await until_status(again, "/healthz", 200, timeout_s=5)
            metrics = (await again.get("/metrics")).text

    assert_refused(refused, "connections_exhausted", "1")
    assert refused.json()["details"] == {"limit": 2}
    assert refused.headers["connection"] == "close"
    assert served_in < 3
    assert "pdm_http_connections_refused_total 1.0" in metrics
