"""The saga serves /metrics: what it follows, read from its tables, and a target for healthchecks."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pdm.infra.broker import free_port
from pdm.settings import Settings
from tests.integration.conftest import wait_until
from tests.integration.rollout.conftest import SagaProcess

pytestmark = pytest.mark.integration


def test_the_saga_serves_its_position_and_rollouts_as_metrics(event_store: Settings, tmp_path: Path) -> None:
    port = free_port()
    saga = SagaProcess(event_store, tmp_path / "saga.log", PDM_SAGA__METRICS_PORT=str(port)).start()

    try:
        wait_until(lambda: _scrape(port) is not None, 30, "saga /metrics answers")
        text = _scrape(port) or ""
    finally:
        saga.stop()

    assert "pdm_saga_position " in text
    assert 'pdm_saga_rollouts{phase="active"} 0.0' in text
    assert "pdm_saga_deadlines_pending 0.0" in text


def _scrape(port: int) -> str | None:
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
    except httpx.HTTPError:
        return None
    return response.text if response.status_code == 200 and "pdm_saga_position" in response.text else None
