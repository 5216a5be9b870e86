"""A good candidate walks every step to promotion; each step waits for its time and evidence."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from pdm.domain.rollout_evidence import Observations, ScoreStats, ShadowEvidence
from pdm.domain.rollout_steps import FLEET_KEY, Finish, Publish, Record, deployment_key, next_step
from tests.unit.rollout.conftest import ASSETS, GOOD, POLICY, RID, Driver, new_rollout

pytestmark = pytest.mark.unit


def run_to_promotion(driver: Driver) -> None:
    driver.step()  # validate, start shadow
    driver.advance(60)  # shadow judged, canary started
    driver.advance(60)  # canary judged, promoted, published


def test_a_good_candidate_is_validated_shadowed_canaried_and_promoted(driver: Driver) -> None:
    run_to_promotion(driver)

    assert driver.events() == ["Started", "Validated", "ShadowStarted", "ShadowEvaluated",
                               "CanaryStarted", "CanaryEvaluated", "Promoted"]
    assert driver.rollout.state == "promoted"
    assert driver.finished


def test_promotion_moves_the_fleet_before_withdrawing_the_step_keys(driver: Driver) -> None:
    run_to_promotion(driver)

    last = [p for p in driver.published if p.step == "promote"]
    assert [p.key for p in last] == [FLEET_KEY, deployment_key(RID, "shadow"), deployment_key(RID, "canary")]
    assert last[0].deployment is not None and last[0].deployment.assets == "*"
    assert last[0].deployment.step == "promoted" and last[0].deployment.model_version == "pca-2"
    assert last[1].deployment is None and last[2].deployment is None
    assert set(driver.served().values()) == {"pca-2"}


def test_the_shadow_deployment_covers_every_asset_with_step_shadow(driver: Driver) -> None:
    driver.step()

    shadow = [p for p in driver.published if p.step == "shadow"]
    assert shadow and shadow[0].deployment is not None
    assert shadow[0].deployment.step == "shadow" and shadow[0].deployment.assets == "*"
    assert shadow[0].deployment.rollout_id == RID


def test_the_canary_serves_the_policy_fraction_of_known_assets(driver: Driver) -> None:
    driver.step()
    driver.advance(60)

    canary = [p for p in driver.published if p.step == "canary"][-1].deployment
    assert canary is not None and canary.step == "canary"
    assert len(canary.assets) == 2 and set(canary.assets) <= set(ASSETS)
    assert driver.rollout.canary_assets == tuple(canary.assets)


def test_validation_waits_until_backtest_metrics_are_observed(driver: Driver) -> None:
    instructions = driver.step(Observations(assets=ASSETS))

    assert instructions == []
    assert driver.rollout.state == "started"


def test_the_shadow_is_not_judged_before_its_duration_has_passed(driver: Driver) -> None:
    driver.step()

    instructions = driver.advance(59)

    assert [type(i) for i in instructions] == [Publish]
    assert driver.rollout.state == "shadowing"


def test_the_shadow_waits_for_enough_candidate_scores(driver: Driver) -> None:
    driver.step()
    thin = replace(GOOD, shadow=ShadowEvidence(ScoreStats(3, 0), ScoreStats(100, 2)))

    driver.advance(90, thin)

    assert driver.rollout.state == "shadowing"


def test_the_canary_waits_while_no_asset_is_known(driver: Driver) -> None:
    driver.step()

    driver.advance(60, Observations(GOOD.backtest, GOOD.shadow, None, ()))

    assert driver.rollout.state == "shadow_evaluated"


def test_the_current_step_is_re_sent_identically_on_every_call(driver: Driver) -> None:
    driver.step()
    driver.advance(60)

    first = driver.once()
    again = driver.once()

    assert first == again
    assert all(isinstance(i, Publish) for i in first)


def test_a_rollout_rebuilt_from_its_events_decides_exactly_as_before(driver: Driver) -> None:
    driver.step()
    driver.advance(60)
    rebuilt = None
    for event in driver.rollout.pending_events:
        rebuilt = event.mutate(rebuilt)

    assert next_step(rebuilt, GOOD, driver.now) == next_step(driver.rollout, GOOD, driver.now)  # type: ignore[arg-type]


def test_without_shadow_the_policy_goes_from_validation_to_canary() -> None:
    driver = Driver(new_rollout(replace(POLICY, shadow=False)))

    driver.step()
    driver.advance(60)

    assert driver.events() == ["Started", "Validated", "CanaryStarted", "CanaryEvaluated", "Promoted"]
    assert [p.key for p in driver.published if p.step == "promote"] == [FLEET_KEY, deployment_key(RID, "canary")]


def test_every_instruction_names_its_rollout(driver: Driver) -> None:
    driver.step()
    driver.now += timedelta(seconds=60)
    instructions = driver.once()

    assert instructions and all(i.rollout_id == RID for i in instructions)
    assert any(isinstance(i, Record) and i.action == "evaluate_shadow" for i in instructions)
    assert not any(isinstance(i, Finish) for i in instructions)
