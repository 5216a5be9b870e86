"""Bulkheads: queries, commands and projections each on a pool of their own, and a database that is
slow, saturated or cut off answers 503 with Retry-After, never a hang or a 500."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from pdm.api.app import create_app
from pdm.domain.application import PdmApplication
from pdm.infra.kafka import ensure_topics
from pdm.settings import ApiSettings, PostgresSettings, RateLimits, Settings
from pdm.simulation import Simulator
from projections.service import Projector
from tests.integration.conftest import ServiceProcess, WorkerProcess, archive_count, wait_until
from tests.integration.rollout.conftest import SagaProcess
from tests.integration.security.serving import readings_body, serving, timed
from tests.integration.streaming.conftest import publish_history

pytestmark = pytest.mark.integration
POOL, WAIT_S, QUERY_TIMEOUT_S = 3, 1.0, 4.0


def bounded(settings: Settings, conninfo: str | None = None) -> Settings:
    pg = settings.postgres.model_copy(update={"pool_max_size": POOL, "pool_timeout_s": WAIT_S})
    if conninfo is not None:
        pg = PostgresSettings(url=conninfo, schema_name=pg.schema_name, pool_max_size=POOL,  # type: ignore[arg-type]
                              pool_timeout_s=WAIT_S)
    api = ApiSettings(rate_limits=RateLimits(ingest=0, read=0, operate=0), query_timeout_s=QUERY_TIMEOUT_S)
    return settings.model_copy(update={"postgres": pg, "api": api})


def register(n: int) -> dict[str, str]:
    return {"asset_id": f"press-{n}", "site": "plant-9", "kind": "press"}


def backends(conninfo: str, schema_user: str | None = None, since: datetime | None = None) -> dict[str, int]:
    """Client backends per application_name (of one role, when given; opened after `since`, when
    given, so pools other tests left open on the shared server are not counted), this query's
    own aside."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rows = conn.execute("SELECT application_name, count(*) FROM pg_stat_activity "
                            "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() "
                            "AND (%s::text IS NULL OR usename = %s) "
                            "AND (%s::timestamptz IS NULL OR backend_start >= %s) "
                            "GROUP BY 1", (schema_user, schema_user, since, since)).fetchall()
    return {name: int(count) for name, count in rows}


def server_now(conninfo: str) -> datetime:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    return row[0]


async def test_saturated_read_pool_leaves_ingestion_and_commands_answering(
    settings: Settings, domain: PdmApplication, auth_headers: dict[str, str], postgres_conninfo: str,
) -> None:
    app_settings = bounded(settings)
    await ensure_topics(app_settings.kafka)
    body, _ = readings_body(100)
    started = server_now(postgres_conninfo)
    async with serving(create_app(app_settings)) as url, \
            httpx.AsyncClient(base_url=url, headers=auth_headers, timeout=30) as http:
        assert (await http.get("/v1/alerts")).status_code == 200
        with psycopg.connect(postgres_conninfo, options=f"-c search_path={settings.postgres.schema_name}") as lock:
            lock.execute("LOCK TABLE rm_alerts IN ACCESS EXCLUSIVE MODE")  # every alert query now waits
            slow = [asyncio.create_task(timed(http.get("/v1/alerts"))) for _ in range(POOL + 4)]
            await asyncio.sleep(0.5)

            ingest, ingest_s = await timed(http.post("/v1/readings", content=body,
                                                     headers={"content-type": "application/json"}))
            command, command_s = await timed(http.post("/v1/assets", json=register(1)))
            pools = backends(postgres_conninfo, since=started)
            queries = await asyncio.gather(*slow)
            lock.rollback()

        assert ingest.status_code == 202 and ingest_s < 2.0, (ingest.status_code, ingest_s)
        assert command.status_code == 200 and command_s < 2.0, (command.status_code, command_s)
        assert pools.get("pdm-api-queries") == POOL, pools  # the read pool never grows past its size
        assert pools.get("pdm-api-commands", 0) >= 1, pools
        codes = sorted(r.json()["code"] for r, _ in queries)
        assert codes == ["database_unavailable"] * 4 + ["query_timeout"] * POOL
        for response, took in queries:
            assert response.status_code == 503 and response.headers["retry-after"] == "2"
            assert took < QUERY_TIMEOUT_S + 2.0, f"a query answered after {took:.1f}s"
        assert (await http.get("/v1/alerts")).status_code == 200  # the pool recovered its slots


def test_projector_connections_are_named_apart_from_the_api_pools(
    settings: Settings, domain: PdmApplication, postgres_conninfo: str,
) -> None:
    projector = Projector(settings)
    try:
        projector.tick()
        names = backends(postgres_conninfo)
    finally:
        projector.close()

    assert names.get("pdm-projector", 0) >= 2, names  # its tracking connection and its event store


class ProjectorProcess(ServiceProcess):
    argv = ("-m", "projections")


def test_worker_saga_and_projector_processes_name_their_connections_per_concern(
    settings: Settings, domain: PdmApplication, postgres_conninfo: str, tmp_path: Path,
    worker: Callable[..., WorkerProcess],
) -> None:
    """The real services, each as `pdm up` starts it: pg_stat_activity says which concern holds
    which backend (a stuck gate is told from a stuck alerting loop or saga at a glance)."""
    asyncio.run(ensure_topics(settings.kafka))
    no_ports = {"PDM_PROJECTOR__METRICS_PORT": "0", "PDM_SAGA__METRICS_PORT": "0"}
    services = [SagaProcess(settings, tmp_path / "saga.log", **no_ports).start(),
                ProjectorProcess(settings, tmp_path / "projector.log", **no_ports).start()]
    worker()
    wanted = {"pdm-worker-gate", "pdm-worker-alerting", "pdm-saga", "pdm-projector", "pdm-projector-scores"}
    try:
        asyncio.run(publish_history(settings, Simulator(2, rate_hz=1.0, seed=3), timedelta(minutes=2)))
        wait_until(lambda: archive_count(settings) > 0, 90, "the gate archived the readings")
        wait_until(lambda: wanted <= set(backends(postgres_conninfo)), 30, "every concern connected")
        names = backends(postgres_conninfo)
    finally:
        for service in services:
            service.stop()

    assert wanted <= set(names), names
    assert "" not in names, names  # no service connection left unnamed (the test's own are `pdm`)


@pytest.fixture
def cut_off_role(settings: Settings, domain: PdmApplication, postgres_conninfo: str) -> Iterator[tuple[str, str]]:
    """(role, conninfo): a login role with the test schema's rights, which the test may lock out."""
    role, password, schema = f"r_{uuid.uuid4().hex[:10]}", uuid.uuid4().hex, settings.postgres.schema_name
    with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
        conn.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA "{schema}" TO {role}')
        conn.execute(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA "{schema}" TO {role}')
    params = conninfo_to_dict(postgres_conninfo)
    query = urlencode({k: v for k, v in params.items() if k in ("host", "port", "sslmode")})
    yield role, f"postgresql://{role}:{password}@/{params.get('dbname', 'postgres')}?{query}"
    with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
        conn.execute(f"ALTER ROLE {role} NOLOGIN")
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,))
        conn.execute(f"DROP OWNED BY {role}")
        conn.execute(f"DROP ROLE {role}")


async def test_database_cut_off_answers_503_on_queries_and_commands_then_recovers(
    settings: Settings, auth_headers: dict[str, str], postgres_conninfo: str, cut_off_role: tuple[str, str],
) -> None:
    role, conninfo = cut_off_role
    async with serving(create_app(bounded(settings, conninfo))) as url, \
            httpx.AsyncClient(base_url=url, headers=auth_headers, timeout=30) as http:
        assert (await http.get("/v1/alerts")).status_code == 200  # keys cached, pools filled
        assert (await http.post("/v1/assets", json=register(1))).status_code == 200
        with psycopg.connect(postgres_conninfo, autocommit=True) as admin:
            admin.execute(f"ALTER ROLE {role} NOLOGIN")
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,))

        answers = [await timed(http.get("/v1/alerts")) for _ in range(2)]
        answers += [await timed(http.post("/v1/assets", json=register(n))) for n in (2, 3)]

        for response, took in answers:
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "database_unavailable"
            assert response.headers["retry-after"] == "2"
            assert took < WAIT_S + 3.0, f"answered after {took:.1f}s with the database cut off"

        with psycopg.connect(postgres_conninfo, autocommit=True) as admin:
            admin.execute(f"ALTER ROLE {role} LOGIN")
        statuses: tuple[int, int] = (0, 0)
        deadline = time.monotonic() + 20
        while statuses != (200, 200) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            statuses = ((await http.get("/v1/alerts")).status_code,
                        (await http.post("/v1/assets", json=register(4))).status_code)
        assert statuses == (200, 200), f"not recovered within 20 s: {statuses}"
