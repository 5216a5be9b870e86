"""Backpressure on ingestion: a dead or stalled broker and a full in-flight budget answer 503 with
Retry-After at once, nothing acknowledged is lost, and the API recovers by itself."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pdm.api.app import create_app
from pdm.domain.application import PdmApplication
from pdm.infra.broker import EmbeddedBroker
from pdm.infra.kafka import ensure_topics
from pdm.settings import ApiSettings, RateLimits, Settings
from tests.integration.security.serving import (
    dedicated_broker,
    ids_on_topic,
    readings_body,
    serving,
    with_kafka,
)

pytestmark = pytest.mark.integration
JSON = {"content-type": "application/json"}


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    with dedicated_broker(tmp_path / "tansu.log") as broker:
        yield broker


def on_broker(settings: Settings, broker: EmbeddedBroker, publish_timeout_s: float, **api: object) -> Settings:
    unlimited = ApiSettings(rate_limits=RateLimits(ingest=0), **api)  # type: ignore[arg-type]
    return with_kafka(settings, bootstrap_servers=broker.bootstrap_servers,
                      publish_timeout_s=publish_timeout_s).model_copy(update={"api": unlimited})


async def test_broker_down_answers_503_quickly_and_recovers_when_a_broker_is_back(
    settings: Settings, domain: PdmApplication, auth_headers: dict[str, str], own_broker: EmbeddedBroker,
    tmp_path: Path,
) -> None:
    app_settings = on_broker(settings, own_broker, publish_timeout_s=3.0)
    await ensure_topics(app_settings.kafka)
    body, _ = readings_body(50)
    async with serving(create_app(app_settings)) as url, \
            httpx.AsyncClient(base_url=url, headers={**auth_headers, **JSON}, timeout=30) as http:
        assert (await http.post("/v1/readings", content=body)).status_code == 202

        own_broker.stop()
        started = time.monotonic()
        answers = await asyncio.gather(*(http.post("/v1/readings", content=body) for _ in range(8)))
        elapsed = time.monotonic() - started

        assert [a.status_code for a in answers] == [503] * 8
        assert {a.json()["code"] for a in answers} == {"broker_unavailable"}
        assert all(int(a.headers["retry-after"]) > 0 for a in answers)
        assert elapsed < 3.0 + 2.0, f"8 concurrent requests took {elapsed:.1f}s with the broker down"

        replacement = EmbeddedBroker(port=own_broker.port, log_path=tmp_path / "tansu-2.log")
        replacement.start()
        try:
            await ensure_topics(app_settings.kafka)  # memory storage: the new broker starts empty
            # Another partition than pump-1's (7): the refused posts' batches, still queued in the
            # dropped producer, can land on the new broker at the same moment, and Tansu's memory
            # storage then fails one of two concurrent first writes to a partition
            # (`AlreadyExists` at offset 0), which loses the other.
            fresh, fresh_ids = readings_body(40, asset_id="pump-3")
            status, deadline = 0, time.monotonic() + 30
            while status != 202 and time.monotonic() < deadline:
                status = (await http.post("/v1/readings", content=fresh)).status_code
                if status != 202:
                    await asyncio.sleep(0.5)

            assert status == 202, "the API did not recover on the replacement broker within 30 s"
            assert fresh_ids <= await ids_on_topic(app_settings, fresh_ids)
        finally:
            replacement.stop()


async def test_bodies_beyond_the_inflight_budget_are_refused_at_once_and_admitted_ones_all_land(
    settings: Settings, domain: PdmApplication, auth_headers: dict[str, str], own_broker: EmbeddedBroker,
) -> None:
    bodies = [readings_body(2000, asset_id=f"pump-{n}") for n in range(10)]
    size = len(bodies[0][0])
    app_settings = on_broker(settings, own_broker, publish_timeout_s=20.0, max_body_bytes=size * 2,
                             ingest_max_inflight_bytes=size * 3 + size // 2)
    await ensure_topics(app_settings.kafka)
    async with serving(create_app(app_settings)) as url, \
            httpx.AsyncClient(base_url=url, headers={**auth_headers, **JSON}, timeout=60) as http:
        assert own_broker.process is not None
        os.kill(own_broker.process.pid, signal.SIGSTOP)  # a broker that accepts and never answers

        async def post(body: bytes) -> tuple[httpx.Response, float]:
            started = time.monotonic()
            response = await http.post("/v1/readings", content=body)
            return response, time.monotonic() - started

        pending = [asyncio.create_task(post(body)) for body, _ in bodies]
        await asyncio.sleep(2.0)
        refused = [t.result() for t in pending if t.done()]
        os.kill(own_broker.process.pid, signal.SIGCONT)
        answers = await asyncio.gather(*pending)

        assert len(refused) == 7, f"{len(refused)} refused while 3 bodies fit the budget"
        for response, took in refused:
            assert response.status_code == 503
            assert response.json()["code"] == "ingest_overloaded"
            assert response.json()["details"]["limit"] == app_settings.api.ingest_max_inflight_bytes
            assert response.headers["retry-after"] == "1"
            assert took < 1.5, f"a refusal took {took:.2f}s"
        admitted = [ids for (response, _), (_, ids) in zip(answers, bodies, strict=True)
                    if response.status_code == 202]
        assert len(admitted) == 3
        promised = set().union(*admitted)
        assert promised <= await ids_on_topic(app_settings, promised)
