"""The query API over the read models: pages, filters, read-your-writes, time travel, errors."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest

from pdm.api.routers._reads import WAIT_S
from pdm.domain.application import PdmApplication
from projections.asset_health import AssetHealthProjection
from projections.fleet_summary import FleetSummaryProjection
from projections.parking import ParkingRunner
from projections.registry import read_models
from tests.integration.alerting.conftest import raise_alert
from tests.integration.readside.conftest import T0, simulate_run

pytestmark = pytest.mark.integration


async def test_cursor_pages_cover_every_alert_once_while_new_alerts_arrive(
    api: httpx.AsyncClient, domain: PdmApplication, db: psycopg.Connection[Any], auth_headers: dict[str, str]
) -> None:
    expected = {str(a) for a in simulate_run(domain, assets=5)}
    runner = ParkingRunner(domain, db, read_models())
    runner.catch_up()
    seen: list[str] = []
    cursor = None

    while True:
        params: dict[str, Any] = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/v1/alerts", params=params, headers=auth_headers)).json()
        seen += [a["alert_id"] for a in page["items"]]
        raise_alert(domain, f"late-{len(seen)}", anomaly_id=f"late-{len(seen)}", at=T0 + timedelta(days=1))
        runner.catch_up()
        if not (cursor := page["next_cursor"]):
            break

    assert len(seen) == len(set(seen)) and set(seen) == expected
    raised = [a["raised_at"] for a in (await api.get("/v1/alerts", params={"limit": 100, "asset_id": "pump-0"},
                                                     headers=auth_headers)).json()["items"]]
    assert raised == sorted(raised, reverse=True)


async def test_filters_combine_and_bad_parameters_have_stable_codes(
    api: httpx.AsyncClient, domain: PdmApplication, db: psycopg.Connection[Any], auth_headers: dict[str, str]
) -> None:
    simulate_run(domain, assets=4)
    ParkingRunner(domain, db, read_models()).catch_up()

    open_on_site = await api.get("/v1/alerts", params={"state": ["open", "acknowledged"], "site": "plant-1"},
                                 headers=auth_headers)
    bad_cursor = await api.get("/v1/alerts", params={"cursor": "nonsense"}, headers=auth_headers)
    bad_state = await api.get("/v1/alerts", params={"state": "sleeping"}, headers=auth_headers)
    bad_range = await api.get("/v1/assets/pump-1/scores", params={"from": "2026-01-02T00:00:00Z",
                                                                 "to": "2026-01-01T00:00:00Z"}, headers=auth_headers)

    items = open_on_site.json()["items"]
    assert items and {(a["site"], a["state"] in ("open", "acknowledged")) for a in items} == {("plant-1", True)}
    assert (bad_cursor.status_code, bad_cursor.json()["code"]) == (400, "invalid_cursor")
    assert (bad_state.status_code, bad_state.json()["code"]) == (422, "validation_failed")
    assert (bad_range.status_code, bad_range.json()["code"]) == (400, "invalid_range")


async def test_a_query_after_a_command_position_waits_for_the_projection(
    api: httpx.AsyncClient, domain: PdmApplication, db: psycopg.Connection[Any], auth_headers: dict[str, str]
) -> None:
    simulate_run(domain, assets=1)
    runner = ParkingRunner(domain, db, read_models())
    runner.catch_up()
    alert_id = raise_alert(domain, "pump-0", anomaly_id="fresh", at=datetime.now(UTC)).alert_id
    ack = await api.post(f"/v1/alerts/{alert_id}/acknowledge", json={"by": "carol", "note": "mine"},
                         headers=auth_headers)
    position = ack.json()["position"]

    async def project_later() -> None:
        await asyncio.sleep(0.5)
        await asyncio.to_thread(ParkingRunner(domain, psycopg.connect(
            db.info.dsn, autocommit=True, options=f"-c search_path={db.execute('SHOW search_path').fetchone()[0]}"),
            read_models()).catch_up)

    lagging = await api.get("/v1/alerts", params={"after": position}, headers=auth_headers)  # nothing projects yet
    waited, _ = await asyncio.gather(
        api.get(f"/v1/alerts/{alert_id}/timeline", params={"after": position}, headers=auth_headers),
        project_later())

    assert (lagging.status_code, lagging.json()["code"]) == (503, "projection_lagging")
    assert lagging.headers["retry-after"] == "1"
    assert [t["event_type"] for t in waited.json()["transitions"]][-1] == "Acknowledged"
    assert waited.json()["transitions"][-1]["note"] == "mine"


async def test_a_position_the_log_never_issued_is_refused_at_once_naming_the_head(
    api: httpx.AsyncClient, domain: PdmApplication, db: psycopg.Connection[Any], auth_headers: dict[str, str]
) -> None:
    simulate_run(domain, assets=1)
    ParkingRunner(domain, db, read_models()).catch_up()
    head = domain.recorder.max_notification_id()
    started = time.monotonic()

    answers = [await api.get(path, params={"after": head + 1}, headers=auth_headers)
               for path in ("/v1/alerts", "/v1/assets", "/v1/fleet/summary", "/v1/models")]

    assert time.monotonic() - started < WAIT_S
    assert {(a.status_code, a.json()["code"]) for a in answers} == {(400, "position_not_issued")}
    assert answers[0].json()["details"] == {"field": "after", "after": head + 1, "head": head}


async def test_the_fleet_summary_is_served_from_its_own_projection_and_counts_what_asset_health_says(
    api: httpx.AsyncClient, domain: PdmApplication, db: psycopg.Connection[Any], auth_headers: dict[str, str]
) -> None:
    simulate_run(domain, assets=5)
    domain.decommission_asset("pump-4", "scrapped", T0 + timedelta(days=1), actor="ops", correlation_id="t")
    ParkingRunner(domain, db, [FleetSummaryProjection()]).catch_up()  # asset_health has not run

    summary = (await api.get("/v1/fleet/summary", headers=auth_headers)).json()
    caught_up = await api.get("/v1/fleet/summary", params={"after": domain.recorder.max_notification_id()},
                              headers=auth_headers)
    ParkingRunner(domain, db, [AssetHealthProjection()]).catch_up()

    counted = db.execute("SELECT site, status, count(*)::int, sum(open_alerts)::int FROM rm_asset_health "
                         "GROUP BY 1, 2 ORDER BY 1, 2").fetchall()
    assert [tuple(r.values()) for r in summary["by_site_and_status"]] == counted
    assert summary["assets"] == 5 and summary["by_status"]["decommissioned"] == 1
    assert caught_up.status_code == 200  # it waits for fleet_summary, not for asset_health
