"""Rollouts end to end on real PostgreSQL and the real broker, with the saga as its own process."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from pdm.api.app import create_app
from pdm.domain.application import PdmApplication
from pdm.scoring import DEFAULT_VERSION
from pdm.settings import Settings
from projections.service import Projector
from tests.integration.rollout.conftest import (
    ASSETS,
    BASELINE,
    FAST,
    T0,
    SagaProcess,
    record_candidate,
    saga_finished,
    serve_fleet,
    until,
    wait_for,
)
from tests.unit.rollout.conftest import promotion

pytestmark = pytest.mark.integration
GOOD_BACKTEST = {"alert_rate_per_asset_day": 1.0, "precision": 0.8}


@pytest.fixture
async def api(event_store: Settings, domain: PdmApplication, auth_headers: dict[str, str]) -> Any:
    app = create_app(event_store)
    app.state.domain = domain
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                 headers=auth_headers) as client:
        yield client


def start_body(candidate: tuple[str, str], baseline: tuple[str, str] = BASELINE, **policy: Any) -> dict[str, Any]:
    return {"candidate_version": candidate[0], "candidate_hash": candidate[1], "baseline_version": baseline[0],
            "baseline_hash": baseline[1], "policy": {**FAST, **policy}}


async def start_over_http(api: httpx.AsyncClient, candidate: tuple[str, str], **policy: Any) -> Any:
    response = await api.post("/v1/rollouts", json=start_body(candidate, **policy))
    assert response.status_code == 202, response.text
    return response.json()["rollout_id"]


async def listed_after_projection(api: httpx.AsyncClient, domain: PdmApplication, settings: Settings,
                                  **query: str) -> list[dict[str, Any]]:
    """GET /v1/rollouts once the projector has caught up (one tick, in process)."""
    projector = Projector(settings, no_data_every_s=0, app=domain)
    await asyncio.to_thread(projector.tick)
    projector.close()
    response = await api.get("/v1/rollouts", params=query)
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


async def test_a_good_candidate_is_promoted_to_every_asset(
    api: httpx.AsyncClient, domain: PdmApplication, saga: SagaProcess, scorer_factory: Any,
    event_store: Settings,
) -> None:
    candidate = record_candidate(domain, "pca-good", **GOOD_BACKTEST)
    scorer = scorer_factory({})  # neither model flags anything: the margins cannot be noise
    saga.start()

    rollout_id = await start_over_http(api, candidate)
    await until(lambda: saga_finished(event_store, rollout_id), 45, "promotion published")

    view = (await api.get(f"/v1/rollouts/{rollout_id}")).json()
    assert view["state"] == "promoted", view
    assert [h["event"] for h in view["history"]] == [
        "Started", "Validated", "ShadowStarted", "ShadowEvaluated", "CanaryStarted", "CanaryEvaluated",
        "Promoted"]
    assert view["steps"]["shadow"]["metrics"]["paired"] > 0
    await until(lambda: {scorer.serving(a) for a in ASSETS} == {candidate[0]}, 10, "fleet on candidate")
    listed = await listed_after_projection(api, domain, event_store)
    assert [r["rollout_id"] for r in listed] == [rollout_id]
    assert listed[0]["state"] == "promoted" and listed[0]["steps"] == view["steps"]
    assert listed[0]["canary_assets"] == view["canary_assets"] and listed[0]["pending_compensations"] == []


async def test_a_candidate_that_alerts_far_more_on_its_canary_is_rolled_back(
    api: httpx.AsyncClient, domain: PdmApplication, saga: SagaProcess, scorer_factory: Any,
    event_store: Settings,
) -> None:
    candidate = record_candidate(domain, "pca-noisy", **GOOD_BACKTEST)
    scorer = scorer_factory({BASELINE[0]: 0.0, candidate[0]: 0.6})
    saga.start()

    rollout_id = await start_over_http(api, candidate, shadow=False)
    await until(lambda: saga_finished(event_store, rollout_id), 45, "rollback published")

    view = (await api.get(f"/v1/rollouts/{rollout_id}")).json()
    assert view["state"] == "rolled_back" and "canary alert rate" in view["reason"]
    assert [h["event"] for h in view["history"]][-3:] == ["CanaryEvaluated", "RolledBack", "Compensated"]
    assert view["pending_compensations"] == [] and view["live_steps"] == []
    await until(lambda: {scorer.serving(a) for a in ASSETS} == {BASELINE[0]}, 10, "fleet on baseline")
    assert any(candidate[0] in served for served in scorer.served.values())  # the canary did serve


async def test_a_candidate_with_a_worse_backtest_is_rejected_before_anything_is_deployed(
    api: httpx.AsyncClient, domain: PdmApplication, saga: SagaProcess, scorer_factory: Any,
    event_store: Settings,
) -> None:
    baseline_metrics = record_candidate(domain, "pca-base", **GOOD_BACKTEST)
    candidate = record_candidate(domain, "pca-bad", alert_rate_per_asset_day=3.0, precision=0.2)
    await serve_fleet(event_store, baseline_metrics)
    scorer = scorer_factory({})
    saga.start()

    rollout_id = (await api.post("/v1/rollouts", json=start_body(candidate, baseline_metrics))).json()["rollout_id"]
    await until(lambda: saga_finished(event_store, rollout_id), 30, "rejection settled")

    view = (await api.get(f"/v1/rollouts/{rollout_id}")).json()
    assert view["state"] == "rejected" and "precision" in view["reason"]
    assert set(scorer.entries) <= {"*"}  # the fleet's own deployment, nothing of the rollout's


async def test_an_operator_abort_over_http_withdraws_the_live_shadow(
    api: httpx.AsyncClient, domain: PdmApplication, saga: SagaProcess, scorer_factory: Any,
    event_store: Settings,
) -> None:
    candidate = record_candidate(domain, "pca-abort", **GOOD_BACKTEST)
    scorer = scorer_factory({})
    saga.start()
    rollout_id = await start_over_http(api, candidate, shadow_s=600, shadow_deadline_s=900)
    await wait_for(domain, rollout_id, lambda r: r.state == "shadowing")

    response = await api.post(f"/v1/rollouts/{rollout_id}/abort", json={"reason": "wrong data"})
    await until(lambda: saga_finished(event_store, rollout_id), 30, "abort settled")

    assert response.status_code == 200
    view = (await api.get(f"/v1/rollouts/{rollout_id}")).json()
    assert view["state"] == "aborted" and view["history"][-1]["event"] == "Compensated"
    await until(lambda: not scorer.entries, 10, "shadow withdrawn")
    again = await api.post(f"/v1/rollouts/{rollout_id}/abort", json={})
    assert again.status_code == 200
    aborted = await listed_after_projection(api, domain, event_store, state="aborted")
    assert [(r["rollout_id"], r["reason"]) for r in aborted] == [(rollout_id, "wrong data")]
    assert await listed_after_projection(api, domain, event_store, state="promoted") == []


async def test_unknown_rollouts_and_bad_policies_are_refused_with_stable_codes(api: httpx.AsyncClient) -> None:
    missing = await api.get(f"/v1/rollouts/{uuid4()}")
    bad = await api.post("/v1/rollouts", json={"candidate_version": "x", "candidate_hash": "a" * 64,
                                               "baseline_version": "y", "baseline_hash": "b" * 64,
                                               "policy": {"canary_fracton": 0.5}})

    assert missing.status_code == 404 and missing.json()["code"] == "rollout_not_found"
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_rollout_policy"
    await asyncio.sleep(0)


async def test_a_second_rollout_while_one_is_active_answers_409_with_the_active_id(
    api: httpx.AsyncClient, domain: PdmApplication,
) -> None:
    first = await start_over_http(api, record_candidate(domain, "pca-first", **GOOD_BACKTEST))
    body = start_body(record_candidate(domain, "pca-second", **GOOD_BACKTEST))

    refused = await api.post("/v1/rollouts", json=body)
    await api.post(f"/v1/rollouts/{first}/abort", json={"reason": "make way"})  # nothing live yet
    accepted = await api.post("/v1/rollouts", json=body)

    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "rollout_active"
    assert refused.json()["details"] == {"active_rollout_id": first, "scope": "*"}
    assert accepted.status_code == 202


async def test_a_start_before_the_saga_published_a_promotion_answers_409_settling_then_is_accepted(
    api: httpx.AsyncClient, domain: PdmApplication, event_store: Settings,
) -> None:
    promoted = record_candidate(domain, "pca-promoted", **GOOD_BACKTEST)
    first = UUID(await start_over_http(api, promoted))
    for record in promotion(first, ASSETS[:1]):
        domain.record_rollout_step(record, T0, actor="saga", correlation_id="test")
    await serve_fleet(event_store, BASELINE)  # "*" still names the model the promotion replaces
    candidate = record_candidate(domain, "pca-after", **GOOD_BACKTEST)

    settling = await api.post("/v1/rollouts", json=start_body(candidate))
    await serve_fleet(event_store, promoted)  # what the saga publishes right after `Promoted`
    accepted = await api.post("/v1/rollouts", json=start_body(candidate, promoted))

    assert settling.status_code == 409, settling.text
    assert settling.json()["code"] == "rollout_settling" and settling.headers["retry-after"] == "2"
    assert settling.json()["details"] == {
        "active_rollout_id": str(first), "scope": "*",
        "promoted": {"model_version": promoted[0], "artifact_hash": promoted[1]}}
    assert accepted.status_code == 202, accepted.text


async def test_a_start_against_a_baseline_that_is_not_serving_the_fleet_answers_409_naming_both(
    api: httpx.AsyncClient, domain: PdmApplication, event_store: Settings,
) -> None:
    serving = record_candidate(domain, "pca-serving", **GOOD_BACKTEST)
    candidate = record_candidate(domain, "pca-next", **GOOD_BACKTEST)
    await serve_fleet(event_store, serving)

    built_in = await api.post("/v1/rollouts", json=start_body(candidate))  # served until the deployment
    same_version = await api.post("/v1/rollouts", json=start_body(candidate, (serving[0], "f" * 64)))
    accepted = await api.post("/v1/rollouts", json=start_body(candidate, serving))

    assert built_in.status_code == 409, built_in.text
    assert built_in.json()["code"] == "baseline_not_serving"
    assert built_in.json()["details"] == {
        "serving": {"model_version": serving[0], "artifact_hash": serving[1]},
        "baseline": {"model_version": BASELINE[0], "artifact_hash": BASELINE[1]}}
    assert same_version.status_code == 409 and same_version.json()["code"] == "baseline_not_serving"
    assert accepted.status_code == 202, accepted.text  # a refused start claimed nothing


async def test_with_nothing_deployed_to_the_fleet_only_the_built_in_model_is_a_baseline(
    api: httpx.AsyncClient, domain: PdmApplication,
) -> None:
    candidate = record_candidate(domain, "pca-first-ever", **GOOD_BACKTEST)
    stale = ("novelty-v1", "b" * 64)

    refused = await api.post("/v1/rollouts", json=start_body(candidate, stale))
    accepted = await api.post("/v1/rollouts", json=start_body(candidate, (DEFAULT_VERSION, "e" * 64)))

    assert refused.status_code == 409 and refused.json()["code"] == "baseline_not_serving"
    assert refused.json()["details"]["serving"] == {"model_version": DEFAULT_VERSION, "artifact_hash": None}
    assert DEFAULT_VERSION in refused.json()["message"] and "novelty-v1@" + "b" * 64 in refused.json()["message"]
    assert accepted.status_code == 202, accepted.text
