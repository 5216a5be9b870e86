"""Malformed payloads are answered 4xx over HTTP and dead-lettered from the topic; nothing crashes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import ConsumerRecord
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from pdm.api.app import create_app
from pdm.infra.migrations import migrate
from pdm.settings import Settings
from streams.gate import ReadingGate
from tests.integration.conftest import grant_all_scopes

pytestmark = pytest.mark.integration

def dumps(value: Any) -> bytes:
    """The stdlib encoder: unlike orjson it writes integers beyond 64 bits, which senders can."""
    return json.dumps(value).encode()


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=12)
near_readings = st.fixed_dictionaries(
    {"asset_id": st.one_of(st.text(max_size=140), json_scalars),
     "ts": st.one_of(st.integers(min_value=-(2**63), max_value=2**63), st.text(max_size=30), json_scalars),
     "values": st.one_of(st.dictionaries(st.text(max_size=20), json_values, max_size=3), json_values)},
    optional={"reading_id": json_values, "schema": st.sampled_from(["reading.v1", "reading.v2", "frame.v1", ""]),
              "revision": json_values, "extra": json_values},
)
hostile_bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(dumps),
    st.lists(near_readings, min_size=1, max_size=5).map(dumps),
    st.just(b"[" * 5000 + b"]" * 5000),
    st.just(b'[{"asset_id": "p", "ts": 1795000000000, "values": {"t": Infinity}}]'),
)


@pytest.fixture(scope="module")
def api_client(bootstrap_servers: str, postgres_conninfo: str) -> Iterator[tuple[httpx.AsyncClient, Any]]:
    from pdm.settings import KafkaSettings, PostgresSettings

    settings = Settings(kafka=KafkaSettings(bootstrap_servers=bootstrap_servers, topic_prefix="hostile."),
                        postgres=PostgresSettings(url=postgres_conninfo))  # type: ignore[arg-type]
    loop = asyncio.new_event_loop()
    app = create_app(settings)
    lifespan = app.router.lifespan_context(app)
    loop.run_until_complete(lifespan.__aenter__())
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                               headers=grant_all_scopes(settings))
    yield client, loop
    loop.run_until_complete(client.aclose())
    loop.run_until_complete(lifespan.__aexit__(None, None, None))
    loop.close()


@hyp_settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=hostile_bodies)
def test_hostile_http_bodies_are_answered_4xx_never_5xx(api_client: Any, body: bytes) -> None:
    client, loop = api_client

    response = loop.run_until_complete(client.post("/v1/readings", content=body,
                                                   headers={"content-type": "application/json"}))

    assert response.status_code in (202, 400, 413, 422), response.text
    if response.status_code != 202:
        error = response.json()
        assert error["code"] and error["message"]


@pytest.fixture
def gate(settings: Settings) -> ReadingGate:
    migrate(settings.postgres.conninfo(), settings.postgres.schema_name)
    return ReadingGate(settings)


def record(value: bytes, offset: int) -> ConsumerRecord:
    return ConsumerRecord(topic="pdm.readings.v1", partition=0, offset=offset, timestamp=0,
                          timestamp_type=0, key=b"k", value=value, checksum=None,
                          serialized_key_size=1, serialized_value_size=len(value), headers=())


@hyp_settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(payloads=st.lists(st.one_of(hostile_bodies, near_readings.map(dumps)), min_size=1, max_size=8))
def test_hostile_topic_messages_are_sorted_never_raised(gate: ReadingGate, payloads: list[bytes]) -> None:
    records = [record(p, i) for i, p in enumerate(payloads)]

    rows, dead = gate.sort(records, datetime.now(UTC))

    archived_offsets = {row[-1] for row in rows.readings} | {row[-1] for row in rows.frames}
    dead_offsets = {letter.source.offset for _, letter in dead}
    assert archived_offsets | dead_offsets == set(range(len(payloads)))
    assert not archived_offsets & dead_offsets
    assert all(letter.reason and letter.original() == payloads[letter.source.offset] for _, letter in dead)


@hyp_settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(payloads=st.lists(hostile_bodies, min_size=120, max_size=120))
def test_hostile_corpus_through_the_real_worker_is_archived_or_dead_lettered(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory, payloads: list[bytes]
) -> None:
    from pdm.contracts import DeadLetterV1, topics
    from pdm.infra.kafka import ensure_topics, producer
    from tests.integration.conftest import WorkerProcess, archive_count, read_topic, wait_until

    migrate(settings.postgres.conninfo(), settings.postgres.schema_name)
    worker = WorkerProcess(settings, tmp_path_factory.mktemp("w") / "worker.log").start()

    async def send() -> None:
        await ensure_topics(settings.kafka)
        client = producer(settings.kafka)
        await client.start()
        await asyncio.gather(*[await client.send(settings.kafka.topic(topics.READINGS), p, key=b"k")
                               for p in payloads])
        await client.stop()

    try:
        asyncio.run(send())
        dead = [DeadLetterV1.model_validate_json(v) for v in
                asyncio.run(read_topic(settings, topics.READINGS_DLQ, len(payloads), 60))]
        wait_until(lambda: worker.health().get("gate", {}).get("messages", 0) >= len(payloads), 60, "all seen")
        health = worker.health()
    finally:
        worker.stop()

    gate = health["gate"]
    assert gate["dead_lettered"] == len(dead) and gate["messages"] == len(payloads)
    assert all(d.reason for d in dead)
    assert archive_count(settings) == gate["readings_archived"]
    archived_messages = _distinct_sources(settings)
    assert len(dead) + archived_messages == len(payloads)
    assert worker.proc is not None and worker.proc.returncode in (0, -15)


def _distinct_sources(settings: Settings) -> int:
    import psycopg

    with psycopg.connect(settings.postgres.conninfo(),
                         options=f"-c search_path={settings.postgres.schema_name}") as conn:
        row = conn.execute("SELECT count(DISTINCT (source_partition, source_offset)) FROM readings_archive").fetchone()
    return int(row[0]) if row else 0
