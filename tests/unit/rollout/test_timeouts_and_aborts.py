"""Deadlines time a stuck step out and operators abort; both compensate what is live."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from pdm.domain.errors import InvalidRolloutPolicyError, RolloutStateError
from pdm.domain.rollout_evidence import Observations
from pdm.domain.rollout_policy import RolloutPolicy, choose_canary
from pdm.domain.rollout_steps import Record, next_step
from tests.unit.rollout.conftest import ASSETS, GOOD, POLICY, RID, SAGA, T0, Driver, new_rollout

pytestmark = pytest.mark.unit
NOTHING = Observations(assets=ASSETS)


def test_validation_without_metrics_times_out_at_its_deadline_with_nothing_to_undo(driver: Driver) -> None:
    driver.advance(29, NOTHING)
    assert driver.rollout.state == "started"

    driver.advance(1, NOTHING)

    assert driver.events() == ["Started", "TimedOut"]
    assert driver.rollout.pending_compensations == [] and driver.finished


def test_a_shadow_that_never_gets_candidate_scores_times_out_and_is_stopped(driver: Driver) -> None:
    driver.step()

    driver.advance(120, replace(GOOD, shadow=None))

    assert driver.events()[-3:] == ["ShadowStarted", "TimedOut", "Compensated"]
    assert driver.rollout.state == "timed_out"
    assert "shadowing exceeded its deadline" in driver.rollout.reason


def test_a_canary_that_never_gets_evidence_times_out_and_undoes_canary_then_shadow(driver: Driver) -> None:
    driver.step()
    driver.advance(60)

    driver.advance(120, replace(GOOD, canary=None))

    assert driver.events()[-3:] == ["TimedOut", "Compensated", "Compensated"]
    assert set(driver.served().values()) == {"novelty-v1"}


def test_the_deadline_runs_from_entering_the_current_state(driver: Driver) -> None:
    driver.advance(10)

    assert driver.rollout.state == "shadowing"
    assert driver.rollout.deadline == T0 + timedelta(seconds=10 + 120)


def test_a_stale_or_early_time_out_changes_nothing(driver: Driver) -> None:
    driver.step()

    fired = driver.rollout.time_out(driver.now + timedelta(seconds=119), SAGA)

    assert not fired and driver.rollout.state == "shadowing"


def test_time_out_is_the_only_instruction_once_the_deadline_passed(driver: Driver) -> None:
    driver.step()

    instructions = next_step(driver.rollout, GOOD, driver.now + timedelta(seconds=120))

    assert instructions == [Record(RID, "shadowing", "time_out")]


def test_an_operator_abort_during_the_canary_compensates_both_steps(driver: Driver) -> None:
    driver.step()
    driver.advance(60)

    driver.rollout.abort("wrong model", driver.now, SAGA)
    driver.step()

    assert driver.events()[-3:] == ["Aborted", "Compensated", "Compensated"]
    assert driver.rollout.finished and driver.rollout.reason == "wrong model"


def test_aborting_twice_is_a_no_op_and_aborting_a_promoted_rollout_is_refused(driver: Driver) -> None:
    driver.step()
    driver.rollout.abort("stop", driver.now, SAGA)
    assert not driver.rollout.abort("stop again", driver.now, SAGA)
    promoted = Driver(new_rollout())
    promoted.step()
    promoted.advance(60)
    promoted.advance(60)

    with pytest.raises(RolloutStateError):
        promoted.rollout.abort("too late", promoted.now, SAGA)


def test_a_final_rollout_decides_nothing_but_its_finish() -> None:
    driver = Driver(new_rollout())
    driver.step(replace(GOOD, backtest=replace(GOOD.backtest, candidate={"precision": 0.0})))  # type: ignore[type-var]

    instructions = next_step(driver.rollout, GOOD, driver.now + timedelta(days=1))

    assert [type(i).__name__ for i in instructions] == ["Finish"]


def test_the_canary_choice_is_stable_per_rollout_and_an_explicit_list_wins() -> None:
    chosen = choose_canary(RID, ASSETS, POLICY)

    assert chosen == choose_canary(RID, tuple(reversed(ASSETS)), POLICY)
    assert len(chosen) == 2
    assert choose_canary(RID, ASSETS, replace(POLICY, canary_assets=("pump-9",))) == ("pump-9",)
    assert choose_canary(RID, ("only",), POLICY) == ("only",)


def test_a_policy_with_impossible_deadlines_or_unknown_fields_is_refused() -> None:
    with pytest.raises(InvalidRolloutPolicyError):
        RolloutPolicy(shadow_s=60, shadow_deadline_s=60)
    with pytest.raises(InvalidRolloutPolicyError):
        RolloutPolicy.from_data({"canary_fracton": 0.5})
    with pytest.raises(InvalidRolloutPolicyError):
        RolloutPolicy(canary_fraction=0)
