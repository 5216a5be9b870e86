"""Schemathesis against the running API's /openapi.json: no 5xx, every answer as the spec says.

The API runs as `pdm api` in a child process (lifespan, uvicorn and middleware as deployed) over a
migrated schema seeded with assets, alerts and models, so path parameters and filters hit data.
Each operation gets `MAX_EXAMPLES` generated requests (schema-valid and schema-violating), sent
with a key holding every scope. The checks are what the spec promises: no 5xx, and every answer's
status, content type, headers and body as documented. Left out are the two that judge whether a
request should have been accepted: a spec cannot say that a silence must end after it starts
(so a schema-valid request may rightly get 400/409/422), and a query string cannot tell a list
from a repeated scalar (`?after=1&after=2` takes the last value, which the fuzzer calls
"schema-violating data accepted"). POST /v1/readings also gets schema-valid readings fitted to what
no spec can state (see `acceptable_readings`), so valid bodies are published and answered 202 too.
Set PDM_FUZZ_EXAMPLES to fuzz harder locally.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.specs.openapi.schemas import OpenApiSchema

from pdm.api.app import create_app
from pdm.contracts import DEFAULT_POLICY
from pdm.contracts.fields import format_event_time, from_epoch_ms, to_epoch_ms
from pdm.eventstore import create_event_tables, open_application
from pdm.infra.broker import free_port
from pdm.settings import KafkaSettings, PostgresSettings, Settings
from projections.parking import ParkingRunner
from projections.registry import read_models
from tests.integration.conftest import ServiceProcess, grant_all_scopes, wait_until
from tests.integration.readside.conftest import simulate_run

pytestmark = pytest.mark.integration
MAX_EXAMPLES = int(os.environ.get("PDM_FUZZ_EXAMPLES", "50"))


@schemathesis.serializer("application/x-ndjson")
def ndjson(_: schemathesis.SerializationContext, value: Any) -> bytes:
    """The spec's NDJSON body is an array of readings, each on a line of its own."""
    if isinstance(value, bytes):
        return value
    return b"\n".join(json.dumps(item).encode() for item in (value if isinstance(value, list) else [value]))


class ApiProcess(ServiceProcess):
    argv = ("-m", "pdm", "api")


@pytest.fixture(scope="module")
def seeded_settings(bootstrap_servers: str, postgres_conninfo: str,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """One schema for the whole module: the fuzzer's writes pile up, which is what an API sees."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    configured = Settings(
        data_dir=tmp_path_factory.mktemp("fuzz") / "data",
        kafka=KafkaSettings(bootstrap_servers=bootstrap_servers, topic_prefix=f"t{uuid.uuid4().hex[:10]}."),
        postgres=PostgresSettings(url=postgres_conninfo, schema_name=schema),  # type: ignore[arg-type]
    )
    grant_all_scopes(configured, "migrate-only")  # migrates the schema
    create_event_tables(configured.postgres)
    seed(configured)
    yield configured
    with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def seed(configured: Settings) -> None:
    pg = configured.postgres
    domain = open_application(pg)
    try:
        simulate_run(domain, assets=3, alerts_per_asset=2)
        with psycopg.connect(pg.conninfo(), options=f"-c search_path={pg.schema_name}",
                             autocommit=True) as conn:
            ParkingRunner(domain, conn, read_models()).catch_up()
    finally:
        domain.close()


@pytest.fixture(scope="module")
def api_url(seeded_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log_path: Path = tmp_path_factory.mktemp("fuzz-api") / "api.log"
    # Unlimited rates: the fuzzer sends hundreds of requests a second with one key.
    process = ApiProcess(seeded_settings, log_path, PDM_API__PORT=str(port),
                         PDM_API__RATE_LIMITS__READ="0", PDM_API__RATE_LIMITS__OPERATE="0",
                         PDM_API__RATE_LIMITS__INGEST="0", PDM_API__RATE_LIMITS__ADMIN="0").start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _ready(url), 60, f"pdm api on {url} (log: {log_path})")
        yield url
    finally:
        process.stop()


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def auth(seeded_settings: Settings) -> dict[str, str]:
    """The key in both documented headers, so the fuzzer's generated ones never replace it."""
    headers = grant_all_scopes(seeded_settings, "schemathesis")
    return {**headers, "X-API-Key": headers["Authorization"].removeprefix("Bearer ")}


@pytest.fixture(scope="module")
def api_schema(api_url: str) -> OpenApiSchema:
    return schemathesis.openapi.from_url(f"{api_url}/openapi.json")


def operations() -> list[tuple[str, str]]:
    """(method, path) of the spec, read at collection from the app itself (no I/O), so each
    operation is a test of its own; the fuzzer then uses the spec the running API serves."""
    spec = create_app(Settings()).openapi()
    # An SSE stream stays open until the client leaves: a request/response fuzzer would wait
    # forever. Its parameters are validated like any other route's (see the live tests).
    return [(method.upper(), path) for path, ops in spec["paths"].items() for method in ops
            if not path.startswith("/v1/live/")]


@pytest.mark.parametrize(("method", "path"), operations(), ids=lambda v: v)
def test_every_operation_answers_without_5xx_and_as_documented(
    method: str, path: str, api_schema: OpenApiSchema, api_url: str, auth: dict[str, str],
) -> None:
    operation = api_schema[path][method]
    positive = operation.as_strategy(GenerationMode.POSITIVE)
    strategies = [positive, operation.as_strategy(GenerationMode.NEGATIVE)]
    if (method, path) == ("POST", "/v1/readings"):
        strategies.append(acceptable_readings(positive))
    cases = st.one_of(strategies)

    @given(case=cases)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, print_blob=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
              database=None)
    def answers_as_documented(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=api_url, headers=auth, timeout=30,
                               excluded_checks=[positive_data_acceptance, negative_data_rejection])

    for attempt in range(1, INTERPRETER_RETRIES + 1):
        try:
            answers_as_documented()
            return
        except BaseException as error:  # re-raised unless it is only the CPython bug
            if attempt == INTERPRETER_RETRIES or not only_ast_depth_bug(error):
                raise


def acceptable_readings(positive: st.SearchStrategy[schemathesis.Case]) -> st.SearchStrategy[schemathesis.Case]:
    """Schema-valid readings fitted to the two rules no spec can state, so the publishing path is
    fuzzed too: the event-time window moves with the server's clock, and `units` and `quality` may
    name only channels that `values` has."""

    @st.composite
    def cases(draw: st.DrawFn) -> schemathesis.Case:
        case = draw(positive)
        body: Any = case.body  # a reading or a list of them: the strategy is positive
        fitted: Any = [fit_rules(reading, draw(EVENT_TIMES)) for reading in (body if isinstance(body, list) else [body])]
        case.body = fitted if isinstance(body, list) else fitted[0]
        return case

    return cases()


def fit_rules(reading: dict[str, Any], ts: int | str) -> dict[str, Any]:
    fitted = {**reading, "ts": ts}
    for field in ("units", "quality"):
        if isinstance(reading.get(field), dict):
            fitted[field] = {name: v for name, v in reading[field].items() if name in reading["values"]}
    return fitted


# Drawn as ages: Hypothesis replays draws, so a strategy's bounds may not move with the clock. A day
# short of the oldest accepted, so no request's latency can age its readings out of the window.
AGES_MS = st.integers(min_value=0, max_value=(DEFAULT_POLICY.max_age - timedelta(days=1)) // timedelta(milliseconds=1))
INSTANTS_MS = AGES_MS.map(lambda age_ms: to_epoch_ms(datetime.now(UTC)) - age_ms)
EVENT_TIMES = st.one_of(INSTANTS_MS, INSTANTS_MS.map(lambda ms: format_event_time(from_epoch_ms(ms))))


# CPython 3.11 (python/cpython gh-106905) keeps the AST constructor's recursion depth in
# interpreter-wide state: an `ast.parse` racing another thread, or one failing part-way, leaves it
# off and a later parse raises `SystemError: AST constructor recursion depth mismatch`. Hypothesis
# parses source while it generates and reports, so the error surfaces here now and then (1 run in
# 5 on 3.11.7) and says nothing about the API; a run that fails only with it is run again.
INTERPRETER_RETRIES = 3
AST_DEPTH_BUG = "AST constructor recursion depth mismatch"


def only_ast_depth_bug(error: BaseException) -> bool:
    if isinstance(error, BaseExceptionGroup):
        return all(only_ast_depth_bug(inner) for inner in error.exceptions)
    return isinstance(error, SystemError) and AST_DEPTH_BUG in str(error)
