"""The stream worker and the projector expose Prometheus metrics read from what they already keep."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from pdm.domain.application import PdmApplication
from pdm.infra.database import connect
from pdm.observability.metrics import new_registry, render
from pdm.observability.projector import ProjectorCollector
from pdm.settings import Settings
from tests.integration.conftest import WorkerProcess, wait_until

pytestmark = pytest.mark.integration


def test_the_worker_serves_its_gate_scoring_and_alerting_counters(
    worker: Callable[[], WorkerProcess],
) -> None:
    process = worker()
    wait_until(lambda: process.health().get("joined_after_s") is not None, 60, "worker joined")

    text = httpx.get(f"http://127.0.0.1:{process.port}/metrics", timeout=5).text

    for name in ("pdm_worker_gate_messages_total", "pdm_worker_gate_dead_lettered_total",
                 "pdm_worker_scoring_anomalies_total", "pdm_worker_alerting_messages_total"):
        assert name in text


def test_the_projector_reports_positions_lag_parked_and_timers(
    settings: Settings, domain: PdmApplication
) -> None:
    pg = settings.postgres
    with connect(pg.conninfo(), pg.schema_name, autocommit=True) as conn:
        conn.execute("INSERT INTO projection_tracking (projection, position) VALUES ('alerts', 0)")
    registry = new_registry()
    registry.register(ProjectorCollector(pg.conninfo(), pg.schema_name, lambda: 7))

    text = render(registry).decode()

    assert 'pdm_projection_position{projection="alerts"} 0.0' in text
    assert 'pdm_projection_lag_events{projection="alerts"} 7.0' in text
    assert "pdm_projection_parked_events" in text and "pdm_timers_pending" in text
