"""POST /v1/readings?backfill=true is `pdm publish --backfill` over HTTP: batches marked, archived flagged."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from pdm.api.app import create_app
from pdm.replay.history import FLAG_BACKFILL
from pdm.settings import Settings
from tests.integration.conftest import WorkerProcess, archive_count, grant_all_scopes, wait_until

pytestmark = pytest.mark.integration
WEEK_MS = 7 * 86_400_000


def readings(asset_id: str, n: int, start_ms: int) -> list[dict[str, Any]]:
    return [{"asset_id": asset_id, "ts": start_ms + i * 1000, "values": {"vibration_rms": 0.2 + i / 1000}}
            for i in range(n)]


async def post(settings: Settings, items: list[dict[str, Any]], query: str = "") -> httpx.Response:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t",
                                     headers=grant_all_scopes(settings)) as client:
            return await client.post(f"/v1/readings{query}", content=orjson.dumps(items),
                                     headers={"content-type": "application/json"})


async def test_http_backfill_marks_readings_that_the_archive_flags_as_backfill(
    archive: Settings, worker: Callable[[], WorkerProcess]
) -> None:
    week_ago = int(time.time() * 1000) - WEEK_MS
    worker()

    backfilled = await post(archive, readings("pump-old", 120, week_ago), "?backfill=true")
    live = await post(archive, readings("pump-now", 30, int(time.time() * 1000) - 60_000))

    assert (backfilled.status_code, backfilled.json()) == (202, {"accepted": 120})
    assert (live.status_code, live.json()) == (202, {"accepted": 30})
    wait_until(lambda: archive_count(archive) >= 150, 60, "150 readings archived")
    flagged = f"flags & {FLAG_BACKFILL} <> 0"
    assert archive_count(archive, f"{flagged} AND asset_id = 'pump-old'") == 120
    assert archive_count(archive, f"{flagged} AND asset_id = 'pump-now'") == 0


async def test_http_backfill_still_refuses_readings_outside_the_event_time_window(archive: Settings) -> None:
    future_ms = int(time.time() * 1000) + 3_600_000

    response = await post(archive, readings("pump-old", 2, future_ms), "?backfill=true")

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_readings"
    assert {d["field"] for d in response.json()["details"]} == {"ts"}
