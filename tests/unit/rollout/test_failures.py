"""A worse candidate is rejected or rolled back, every live step compensated newest first."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pdm.domain.errors import RolloutStateError
from pdm.domain.rollout_evidence import Backtest, CanaryEvidence, ScoreStats, ShadowEvidence
from pdm.domain.rollout_steps import deployment_key, next_step
from tests.unit.rollout.conftest import BASELINE, GOOD, RID, SAGA, Driver

pytestmark = pytest.mark.unit


def test_a_candidate_with_a_much_higher_backtest_alert_rate_is_rejected(driver: Driver) -> None:
    worse = replace(GOOD, backtest=Backtest({"alert_rate_per_asset_day": 1.2}, {"alert_rate_per_asset_day": 1.0}))

    driver.step(worse)

    assert driver.events() == ["Started", "Rejected"]
    assert "alert rate" in driver.rollout.reason
    assert driver.published == [] and driver.finished


def test_a_candidate_with_lower_backtest_precision_is_rejected(driver: Driver) -> None:
    worse = replace(GOOD, backtest=Backtest({"precision": 0.5}, {"precision": 0.8}))

    driver.step(worse)

    assert driver.rollout.state == "rejected"
    assert "precision" in driver.rollout.reason


def test_a_metric_only_one_side_reports_is_no_evidence_against_the_candidate(driver: Driver) -> None:
    partial = replace(GOOD, backtest=Backtest({"precision": 0.1}, {}))

    driver.step(partial)

    assert driver.rollout.state == "shadowing"
    assert driver.rollout.evaluations["validation"]["metrics"] == {"candidate_precision": 0.1}


@pytest.mark.parametrize(("shadow", "why"), [
    (ShadowEvidence(ScoreStats(100, 2), ScoreStats(100, 2), paired=100, agreed=50), "agreement"),
    (ShadowEvidence(ScoreStats(100, 30), ScoreStats(100, 2)), "alert rate"),
    (ShadowEvidence(ScoreStats(100, 2), ScoreStats(100, 2), latency_cost_ms=900.0), "latency"),
])
def test_a_failing_shadow_rolls_back_and_stops_the_shadow(driver: Driver, shadow: ShadowEvidence,
                                                          why: str) -> None:
    driver.step()

    driver.advance(60, replace(GOOD, shadow=shadow))

    assert driver.events()[-3:] == ["ShadowEvaluated", "RolledBack", "Compensated"]
    assert why in driver.rollout.reason
    withdrawal = driver.published[-1]
    assert withdrawal.key == deployment_key(RID, "shadow")
    assert withdrawal.deployment is not None and withdrawal.deployment.step == "rolled_back"
    assert withdrawal.deployment.model_version == BASELINE[0]
    assert driver.finished


def test_a_failing_canary_returns_the_canary_assets_then_stops_the_shadow(driver: Driver) -> None:
    driver.step()
    driver.advance(60)
    bad = replace(GOOD, canary=CanaryEvidence(ScoreStats(50, 20), ScoreStats(200, 4)))

    driver.advance(60, bad)

    assert driver.events()[-4:] == ["CanaryEvaluated", "RolledBack", "Compensated", "Compensated"]
    undone = [p for p in driver.published if p.deployment is not None and p.deployment.step == "rolled_back"]
    assert [p.key for p in undone] == [deployment_key(RID, "canary"), deployment_key(RID, "shadow")]
    assert list(undone[0].deployment.assets) == list(driver.rollout.canary_assets)  # type: ignore[union-attr]
    assert set(driver.served().values()) == {BASELINE[0]}
    assert driver.rollout.finished


def test_a_compensation_published_but_not_recorded_is_published_again(driver: Driver) -> None:
    driver.step()
    driver.advance(60)
    driver.rollout.roll_back("operator saw drift", driver.now, SAGA)
    next_step(driver.rollout, GOOD, driver.now)  # decided, then the process died before acting

    again = next_step(driver.rollout, GOOD, driver.now)

    assert [(type(i).__name__, i.step) for i in again] == [
        ("Publish", "canary"), ("Record", "canary"), ("Publish", "shadow"), ("Record", "shadow"),
        ("Finish", "rolled_back")]


def test_compensating_out_of_order_is_refused(driver: Driver) -> None:
    driver.step()
    driver.advance(60)
    driver.rollout.roll_back("drift", driver.now, SAGA)

    with pytest.raises(RolloutStateError):
        driver.rollout.compensate("shadow", driver.now, SAGA)

    assert driver.rollout.pending_compensations == ["canary", "shadow"]


def test_a_candidate_whose_model_version_was_rejected_is_refused_whatever_its_metrics(driver: Driver) -> None:
    refused = replace(GOOD, backtest=replace(GOOD.backtest, refusal="candidate model version is rejected"))  # type: ignore[type-var]

    driver.step(refused)

    assert driver.rollout.state == "rejected"
    assert driver.rollout.reason == "candidate model version is rejected"
