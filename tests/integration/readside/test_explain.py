"""An alert raised by the real worker is explained by replaying the archive, equal to what was recorded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
import pytest

from pdm.domain.application import PdmApplication
from pdm.infra.kafka import ensure_topics
from pdm.scoring import DEFAULT_MODEL
from pdm.settings import Settings
from pdm.simulation import Simulator
from tests.integration.conftest import WorkerProcess, wait_until
from tests.integration.streaming.conftest import publish_history

pytestmark = pytest.mark.integration
START = datetime(2026, 2, 2, tzinfo=UTC)


def raised_alerts(domain: PdmApplication) -> list[UUID]:
    return [n.originator_id for n in domain.recorder.select_notifications(1, 100_000)
            if n.topic.endswith("Alert.Raised")]


async def test_an_alert_from_simulated_readings_is_reproduced_from_the_archive(
    event_store: Settings, domain: PdmApplication, worker: Callable[[], WorkerProcess], api: httpx.AsyncClient
) -> None:
    sim = Simulator(2, rate_hz=1.0, seed=11, start=START, faults="overheat:pump-1@14m+5m")
    await ensure_topics(event_store.kafka)
    worker()
    await publish_history(event_store, sim, timedelta(minutes=20), ticks_per_batch=45)
    wait_until(lambda: bool(raised_alerts(domain)), 60, "an alert raised by the worker")
    alert_id = raised_alerts(domain)[0]

    answer = await api.get(f"/v1/alerts/{alert_id}/explain")

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["reproduced"] is True
    assert body["replayed"]["score"] == body["recorded"]["score"]
    assert body["replayed"]["raised_here"] is True
    assert body["model_version"] == DEFAULT_MODEL.version and body["asset_id"] == "pump-1"
    assert len(body["readings_window"]["items"]) == 10
    assert set(body["features"]) == set(DEFAULT_MODEL.feature_set.feature_names)
    assert body["scores_before"][-1]["score"] == body["recorded"]["score"]


async def test_explaining_an_unknown_alert_is_a_404(event_store: Settings, api: httpx.AsyncClient) -> None:
    answer = await api.get("/v1/alerts/00000000-0000-0000-0000-000000000000/explain")

    assert answer.status_code == 404
    assert answer.json()["code"] == "alert_not_found"
