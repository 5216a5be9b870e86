"""Alert and asset commands over HTTP on real PostgreSQL: positions, 404s, 409s with reasons."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from pdm.alerting.labels import resolved_alert_labels
from pdm.domain.application import PdmApplication
from pdm.domain.model_versions import Lineage
from tests.integration.alerting.conftest import T0, events_of, raise_alert

pytestmark = pytest.mark.integration
UNKNOWN = "00000000-0000-0000-0000-000000000001"


async def test_exactly_one_of_many_concurrent_acknowledgers_wins(
    api: httpx.AsyncClient, domain: PdmApplication
) -> None:
    alert_id = raise_alert(domain).alert_id

    responses = await asyncio.gather(*(
        api.post(f"/v1/alerts/{alert_id}/acknowledge", json={"by": f"user-{n}", "note": "mine"})
        for n in range(8)
    ))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 7, [r.text for r in responses]
    refused = [r.json() for r in responses if r.status_code == 409]
    assert {r["code"] for r in refused} <= {"concurrent_change", "alert_not_open"}
    assert len(events_of(domain, alert_id, "Acknowledged")) == 1


async def test_a_stale_expected_version_is_a_conflict_naming_what_changed(
    api: httpx.AsyncClient, domain: PdmApplication
) -> None:
    alert_id = raise_alert(domain).alert_id
    seen = (await api.get(f"/v1/alerts/{alert_id}")).json()["version"]
    await api.post(f"/v1/alerts/{alert_id}/suppress",
                   json={"by": "alice", "reason": "known", "until": (T0 + timedelta(hours=1)).isoformat()})

    response = await api.post(f"/v1/alerts/{alert_id}/acknowledge",
                              json={"by": "bob", "expected_version": seen})

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "concurrent_change"
    assert body["details"]["changes"] == ["Suppressed by alice"]
    assert body["details"]["expected_version"] == seen


async def test_resolving_a_resolved_alert_is_a_conflict_with_its_state(
    api: httpx.AsyncClient, domain: PdmApplication
) -> None:
    alert_id = raise_alert(domain).alert_id
    resolution = {"by": "alice", "resolution": "bearing replaced", "fault_confirmed": True}
    await api.post(f"/v1/alerts/{alert_id}/resolve", json=resolution)

    response = await api.post(f"/v1/alerts/{alert_id}/resolve", json=resolution)

    assert response.status_code == 409
    assert response.json()["code"] == "alert_already_resolved"
    assert response.json()["details"]["state"] == "resolved"


async def test_an_unknown_alert_is_a_404_with_a_stable_code(api: httpx.AsyncClient) -> None:
    response = await api.post(f"/v1/alerts/{UNKNOWN}/acknowledge", json={"by": "alice"})

    assert response.status_code == 404
    assert response.json()["code"] == "alert_not_found"


async def test_anomaly_to_alert_to_acknowledge_to_resolve_records_who_and_why(
    api: httpx.AsyncClient, domain: PdmApplication
) -> None:
    alert_id = raise_alert(domain).alert_id

    ack = await api.post(f"/v1/alerts/{alert_id}/acknowledge", json={"by": "alice", "note": "on it"},
                         headers={"X-Correlation-ID": "req-ack"})
    done = await api.post(f"/v1/alerts/{alert_id}/resolve",
                          json={"by": "bob", "resolution": "bearing worn", "fault_confirmed": True})

    assert ack.status_code == 200 and done.status_code == 200
    assert done.json()["position"] > ack.json()["position"] >= 1
    history = (await api.get(f"/v1/alerts/{alert_id}/history")).json()
    assert [(h["type"], h["actor"]) for h in history] == [
        ("Raised", "stream-worker"), ("Acknowledged", "alice"), ("Resolved", "bob")]
    assert history[1]["correlation_id"] == "req-ack"
    assert history[2]["fields"] == {"by": "bob", "resolution": "bearing worn", "fault_confirmed": True}


async def test_a_resolution_is_a_label_for_retraining(api: httpx.AsyncClient, domain: PdmApplication) -> None:
    confirmed = raise_alert(domain, "pump-7").alert_id
    rejected = raise_alert(domain, "fan-2", anomaly_id="a-2").alert_id
    await api.post(f"/v1/alerts/{confirmed}/resolve",
                   json={"by": "bob", "resolution": "bearing worn", "fault_confirmed": True})
    await api.post(f"/v1/alerts/{rejected}/resolve",
                   json={"by": "bob", "resolution": "sensor bumped", "fault_confirmed": False})

    labels = resolved_alert_labels(domain)

    assert [(x.asset_id, x.fault_confirmed, x.raised_at) for x in labels] == [
        ("pump-7", True, T0), ("fan-2", False, T0)]
    assert resolved_alert_labels(domain, after_position=labels[0].position)[0].asset_id == "fan-2"


async def test_registering_an_asset_and_recording_maintenance_return_positions(
    api: httpx.AsyncClient,
) -> None:
    channels = {"vibration_rms": {"unit": "g", "low": 0, "high": 1}}
    registered = await api.post("/v1/assets", json={"asset_id": "pump-7", "site": "plant-1",
                                                    "kind": "pump", "channels": channels},
                                headers={"X-Actor": "ops-console"})
    work = {"work_order_id": "wo-1", "kind": "inspection", "fault_confirmed": False,
            "started_at": T0.isoformat(), "ended_at": (T0 + timedelta(hours=2)).isoformat()}

    first = await api.post("/v1/assets/pump-7/maintenance", json=work)
    again = await api.post("/v1/assets/pump-7/maintenance", json=work)
    unknown = await api.post("/v1/assets/nope/maintenance", json=work)

    assert registered.status_code == 200 and registered.json()["position"] == 1
    assert first.json()["position"] == 2 and again.json()["position"] == 2
    assert unknown.status_code == 404 and unknown.json()["code"] == "asset_not_found"
    asset = (await api.get("/v1/assets/pump-7")).json()
    assert asset["site"] == "plant-1" and asset["maintenance"][0]["work_order_id"] == "wo-1"


async def test_a_silence_suppresses_alerts_raised_inside_it(
    api: httpx.AsyncClient, domain: PdmApplication
) -> None:
    silence = {"scope": "asset", "target": "pump-7", "starts_at": T0.isoformat(),
               "ends_at": (T0 + timedelta(hours=1)).isoformat(), "reason": "calibration", "by": "alice"}

    created = await api.post("/v1/silences", json=silence)
    retried = await api.post("/v1/silences", json=silence)
    alert_id = raise_alert(domain, at=T0 + timedelta(minutes=5)).alert_id

    assert created.status_code == 200 and retried.json() == created.json()
    assert (await api.get(f"/v1/alerts/{alert_id}")).json()["state"] == "suppressed"


async def test_a_model_version_is_validated_then_retired_once_over_http(
    api: httpx.AsyncClient, domain: PdmApplication
) -> None:
    digest = "ab" * 32
    lineage = Lineage(T0, T0 + timedelta(days=7), ("pump-7",), T0 + timedelta(days=7), 42, "abc123")
    domain.record_model_trained(digest, "isolation_forest", {"trees": 100}, T0, T0 + timedelta(days=7),
                                "fs-1", {"f1": 0.8}, lineage, actor="trainer", correlation_id="job-1")

    validated = await api.post(f"/v1/models/{digest}/validate", json={"metrics": {"f1": 0.81}})
    retired = await api.post(f"/v1/models/{digest}/retire", json={"reason": "superseded"})
    again = await api.post(f"/v1/models/{digest}/retire", json={"reason": "superseded"})
    unknown = await api.post(f"/v1/models/{'cd' * 32}/retire", json={"reason": "x"})

    assert validated.status_code == 200 and retired.json()["position"] == again.json()["position"]
    assert unknown.status_code == 404 and unknown.json()["code"] == "model_version_not_found"
    model = (await api.get(f"/v1/models/{digest}")).json()
    assert model["state"] == "retired" and model["record"]["lineage"]["assets"] == ["pump-7"]


@pytest.mark.parametrize("body", [
    {"asset_id": "pump 7", "site": "plant-1", "kind": "pump"},
    {"asset_id": "p" * 129, "site": "plant-1", "kind": "pump"},
    {"asset_id": "pump-7", "site": "plant-1", "kind": "pump", "channels": {"bad channel": {"unit": "g"}}},
])
async def test_an_asset_is_registered_only_under_ids_its_readings_can_use(
    api: httpx.AsyncClient, body: dict[str, object],
) -> None:
    answer = await api.post("/v1/assets", json=body)
    assert answer.status_code == 422, answer.text
    assert ("channels" if "channels" in body else "asset_id") in answer.text
