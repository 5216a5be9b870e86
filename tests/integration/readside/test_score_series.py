"""Scores on the real broker become the chart series the API serves, once per offset."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta
from typing import Any

import httpx
import psycopg
import pytest
from aiokafka import AIOKafkaConsumer

from pdm.contracts import ScoreV1, topics
from pdm.infra import kafka as kafka_clients
from pdm.settings import Settings
from projections.score_series import ScoreSeriesConsumer, ScoreSeriesProjection
from tests.integration.readside.conftest import T0, dump

pytestmark = pytest.mark.integration
SERIES_TABLES = ("rm_score_series", "rm_asset_latest_score", "score_offsets")


def score(second: int, value: float, asset: str = "pump-7") -> ScoreV1:
    return ScoreV1(asset_id=asset, ts=T0 + timedelta(seconds=second), score=value, threshold=0.5,
                   is_anomalous=value >= 0.5, model_version="m-1", feature_set_version="fs-1")


async def publish(settings: Settings, scores: list[ScoreV1]) -> None:
    await kafka_clients.ensure_topics(settings.kafka)
    producer = kafka_clients.producer(settings.kafka)
    await producer.start()
    try:
        for s in scores:
            await producer.send(settings.kafka.topic(topics.SCORES), s.model_dump_json(by_alias=True).encode(),
                                key=s.asset_id.encode())
        await producer.flush()
    finally:
        await producer.stop()


async def project(settings: Settings, until_applied: int, timeout_s: float = 30) -> ScoreSeriesConsumer:
    """Runs the consumer loop until it applied `until_applied` records (or time ran out), then stops it."""
    consumer, stop = ScoreSeriesConsumer(settings), threading.Event()
    task = asyncio.create_task(consumer.run(stop))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not task.done():
        if consumer.projection and consumer.projection.stats.applied >= until_applied:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5 if until_applied == 0 else 0)
    stop.set()
    await task
    return consumer


async def every_record(settings: Settings) -> list[Any]:
    raw = AIOKafkaConsumer(settings.kafka.topic(topics.SCORES), auto_offset_reset="earliest",
                           enable_auto_commit=False, **kafka_clients.client_options(settings.kafka))
    await raw.start()
    try:
        batches = await raw.getmany(timeout_ms=3000)
        return [r for part in batches.values() for r in part]
    finally:
        await raw.stop()


def tables(db: psycopg.Connection[Any]) -> dict[str, Any]:
    return {t: [row[:-1] if t == "score_offsets" else row for row in dump(db, t)] for t in SERIES_TABLES}


async def test_published_scores_are_served_as_a_downsampled_series(
    event_store: Settings, api: httpx.AsyncClient
) -> None:
    scores = [score(s, 0.1 if s < 120 else 0.7) for s in range(0, 180, 10)]
    await publish(event_store, [*scores, score(0, 0.2, asset="pump-8")])

    await project(event_store, until_applied=len(scores) + 1)
    answer = await api.get("/v1/assets/pump-7/scores", params={
        "from": T0.isoformat(), "to": (T0 + timedelta(minutes=3)).isoformat(), "step": 60})

    assert answer.status_code == 200
    points = answer.json()["points"]
    assert [(p["n"], p["anomalous"]) for p in points] == [(6, 0), (6, 0), (6, 6)]
    assert points[0]["mean"] == pytest.approx(0.1) and points[2]["max"] == pytest.approx(0.7)
    assert {p["threshold"] for p in points} == {0.5}


async def test_redelivered_scores_change_nothing(event_store: Settings, db: psycopg.Connection[Any]) -> None:
    await publish(event_store, [score(s, s / 100) for s in range(0, 120, 10)])
    await project(event_store, until_applied=12)
    before = tables(db)

    pg = event_store.postgres
    async with await psycopg.AsyncConnection.connect(
            pg.conninfo(), options=f"-c search_path={pg.schema_name}", autocommit=True) as conn:
        again = await ScoreSeriesProjection(conn).apply(await every_record(event_store))
    resumed = await project(event_store, until_applied=0)

    assert again == 0
    assert resumed.projection is not None and resumed.projection.stats.applied == 0
    assert tables(db) == before
    assert sum(row[2] for row in before["rm_score_series"]) == 12
    assert before["rm_asset_latest_score"][0][1] == T0 + timedelta(seconds=110)
