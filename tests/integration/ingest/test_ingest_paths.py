"""Readings published over HTTP and raw Kafka land in the archive exactly once; bad ones in the DLQ."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from pdm.api.app import create_app
from pdm.contracts import DeadLetterV1, topics
from pdm.infra.kafka import client_options, ensure_topics
from pdm.infra.migrations import migrate
from pdm.settings import Settings
from tests.integration.conftest import (
    WorkerProcess,
    archive_count,
    archive_duplicates,
    grant_all_scopes,
    read_topic,
    wait_until,
)

pytestmark = pytest.mark.integration


def make_readings(n: int, assets: int = 5, start_ms: int | None = None) -> list[dict[str, Any]]:
    start_ms = start_ms or int(time.time() * 1000) - n * 1000
    return [
        {"asset_id": f"pump-{i % assets}", "ts": start_ms + i * 1000,
         "values": {"vibration_rms": 0.2 + (i % 7) / 100, "temperature_c": 60.0 + i % 11}}
        for i in range(n)
    ]


async def post(settings: Settings, body: bytes, **headers: str) -> httpx.Response:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t",
                                     headers=grant_all_scopes(settings)) as client:
            return await client.post("/v1/readings", content=body,
                                     headers={"content-type": "application/json", **headers})


@pytest.fixture
def migrated(settings: Settings) -> Settings:
    migrate(settings.postgres.conninfo(), settings.postgres.schema_name)
    return settings


async def test_http_batch_is_archived_once_even_when_the_client_retries(
    migrated: Settings, worker: Callable[[], WorkerProcess]
) -> None:
    body = orjson.dumps(make_readings(250))
    worker()

    first = await post(migrated, body)
    retry = await post(migrated, body)

    assert first.status_code == 202 and first.json() == {"accepted": 250}
    assert retry.status_code == 202
    wait_until(lambda: archive_count(migrated) >= 250, 60, "250 readings archived")
    await asyncio.sleep(1.5)
    assert archive_count(migrated) == 250 and archive_duplicates(migrated) == 0


async def test_invalid_batch_is_refused_whole_with_every_problem(migrated: Settings) -> None:
    readings = make_readings(4)
    readings[1]["values"]["temperature_c"] = "hot"
    readings[3]["ts"] = "2026-11-21T10:00:00"

    response = await post(migrated, orjson.dumps(readings))

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_readings"
    assert {(d["index"], d["field"]) for d in body["details"]} == {(1, "values.temperature_c"), (3, "ts")}


async def test_unreachable_broker_answers_503_with_retry_after(migrated: Settings) -> None:
    from pdm.infra.broker import free_port
    from pdm.settings import KafkaSettings

    down = migrated.model_copy(update={"kafka": KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}")})

    response = await post(down, orjson.dumps(make_readings(3)))

    assert response.status_code == 503
    assert response.json()["code"] == "broker_unavailable" and response.headers["retry-after"] == "5"


async def test_gzip_ndjson_is_accepted(migrated: Settings) -> None:
    import gzip

    lines = b"\n".join(orjson.dumps(r) for r in make_readings(10))

    response = await post(migrated, gzip.compress(lines), **{
        "content-type": "application/x-ndjson", "content-encoding": "gzip"})

    assert response.status_code == 202 and response.json() == {"accepted": 10}


BAD_MESSAGES = {
    b"{not json": "",
    orjson.dumps({"asset_id": "pump-1", "ts": 1, "values": {"t": "x"}}): "values.t",
    orjson.dumps({"schema": "reading.v9", "asset_id": "p", "ts": 1, "values": {"t": 1}}): "schema",
    b'{"asset_id": "pump-1", "ts": 1795000000000, "values": {"t": NaN}}': "values.t",
    orjson.dumps({"asset_id": "pump-1", "ts": int(time.time() * 1000) + 86_400_000, "values": {"t": 1.0}}): "ts",
}


async def test_raw_kafka_messages_are_validated_and_bad_ones_dead_lettered(
    migrated: Settings, worker: Callable[[], WorkerProcess]
) -> None:
    await ensure_topics(migrated.kafka)
    producer = AIOKafkaProducer(**client_options(migrated.kafka))
    await producer.start()
    valid = orjson.dumps(make_readings(1)[0])
    sent = {}
    for raw in [*BAD_MESSAGES, valid]:
        meta = await producer.send_and_wait(migrated.kafka.topic(topics.READINGS), raw, key=b"pump-1")
        sent[raw] = meta.offset
    await producer.stop()
    worker()

    dead = [DeadLetterV1.model_validate_json(v) for v in await read_topic(migrated, topics.READINGS_DLQ, 5, 60)]

    assert sorted(d.original() for d in dead) == sorted(BAD_MESSAGES)
    for letter in dead:
        assert letter.source.offset == sent[letter.original()]
        assert letter.reason and BAD_MESSAGES[letter.original()] in {i.field for i in letter.issues}, letter
    wait_until(lambda: archive_count(migrated) == 1, 30, "the one valid reading archived")
