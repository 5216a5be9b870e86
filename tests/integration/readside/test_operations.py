"""Operating the read side: poison events parked, status and rebuild from the CLI, time travel."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import psycopg
import pytest
from typer.testing import CliRunner

from pdm.cli.main import app as pdm_cli
from pdm.domain.alerts import Alert
from pdm.domain.application import PdmApplication
from pdm.settings import Settings
from projections.alerts import AlertsProjection
from projections.parking import ParkingRunner
from projections.registry import read_models
from tests.conftest import settings_env
from tests.integration.alerting.conftest import raise_alert
from tests.integration.readside.conftest import dump, simulate_run

pytestmark = pytest.mark.integration


class Choking(AlertsProjection):
    """Raises on one asset's alerts, as a projection bug meeting an unexpected event would."""

    def project(self, cursor: Any, events: Any) -> None:
        if any(isinstance(p.event, Alert.Raised) and p.event.asset_id == "pump-1" for p in events):
            raise ValueError("cannot take pump-1")
        super().project(cursor, events)


def test_a_poison_event_is_parked_with_its_aggregate_held_and_the_rest_moves_on(
    domain: PdmApplication, db: psycopg.Connection[Any], event_store: Settings
) -> None:
    simulate_run(domain, assets=3, alerts_per_asset=1)
    runner = ParkingRunner(domain, db, [Choking()])

    runner.catch_up()
    status = CliRunner().invoke(pdm_cli, ["projections", "status", "--json"], env=settings_env(event_store))

    alerts = {row[1] for row in dump(db, "rm_alerts")}
    assert alerts == {"pump-0", "pump-2"}
    parked = db.execute("SELECT error IS NOT NULL, count(*) FROM projection_parked GROUP BY 1 ORDER BY 1").fetchall()
    assert parked[-1] == (True, 1) and parked[0][0] is False  # one poison, its later events held
    report = {p["projection"]: p for p in json.loads(status.stdout)["projections"]}["alerts"]
    assert report["parked"] == 1 and "cannot take pump-1" in report["last_error"] and report["lag"] == 0


def test_rebuild_from_the_cli_swaps_in_fresh_tables_equal_to_the_live_ones(
    domain: PdmApplication, db: psycopg.Connection[Any], event_store: Settings
) -> None:
    simulate_run(domain, assets=4)
    ParkingRunner(domain, db, read_models()).catch_up()
    before = dump(db, "rm_alerts")

    result = CliRunner().invoke(pdm_cli, ["projections", "rebuild", "alerts"], env=settings_env(event_store))

    assert result.exit_code == 0, result.output
    assert "swapped in" in result.output
    assert dump(db, "rm_alerts") == before
    assert db.execute("SELECT to_regclass('rm_alerts__rebuild')").fetchone() == (None,)


async def test_health_and_alerts_as_of_a_past_time_answer_what_was_known_then(
    api: httpx.AsyncClient, domain: PdmApplication, db: psycopg.Connection[Any], auth_headers: dict[str, str]
) -> None:
    domain.register_asset("pump-9", "plant-1", "pump", {}, actor="ops", correlation_id="t")
    alert_id = raise_alert(domain, "pump-9", anomaly_id="x-1").alert_id
    while_open = domain.get_alert(alert_id).modified_on
    domain.resolve_alert(alert_id, "bob", "fixed", True, actor="bob", correlation_id="t")
    ParkingRunner(domain, db, read_models()).catch_up()
    then = (while_open + timedelta(microseconds=1)).isoformat()

    now = (await api.get("/v1/assets/pump-9/health", headers=auth_headers)).json()
    past = (await api.get("/v1/assets/pump-9/health", params={"as_of": then}, headers=auth_headers)).json()
    alerts_then = (await api.get("/v1/alerts", params={"as_of": then}, headers=auth_headers)).json()["items"]
    before_all = await api.get("/v1/assets/pump-9/health", params={"as_of": "2000-01-01T00:00:00Z"},
                               headers=auth_headers)

    assert (now["status"], now["open_alerts"]) == ("ok", 0)
    assert (past["status"], past["open_alerts"]) == ("warning", 1)
    assert [(a["alert_id"], a["state"]) for a in alerts_then] == [(str(alert_id), "open")]
    assert (before_all.status_code, before_all.json()["code"]) == (404, "asset_not_found")
