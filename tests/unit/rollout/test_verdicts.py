"""Live verdicts compare alert rates with a two-proportion test against the policy's margin."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pdm.domain.errors import InvalidRolloutPolicyError
from pdm.domain.rollout_evidence import CanaryEvidence, ScoreStats, ShadowEvidence, judge_canary, judge_shadow
from pdm.domain.rollout_policy import RolloutPolicy
from pdm.domain.rollout_significance import RateFinding, compare_rates
from tests.unit.rollout.conftest import GOOD, POLICY, Driver


def test_the_interval_is_agresti_caffo_one_sided_at_the_policy_confidence() -> None:
    found = compare_rates((10, 100), (5, 100), margin=0.02, confidence=0.95)

    assert found.delta == pytest.approx(0.05)
    assert found.low == pytest.approx(-0.01439, abs=1e-4)
    assert found.high == pytest.approx(0.11243, abs=1e-4)
    assert found.finding is RateFinding.UNDECIDED


@pytest.mark.parametrize(("candidate", "baseline", "finding"), [
    ((0, 20), (0, 20), RateFinding.UNDECIDED),  # nothing flagged on 20 windows proves little
    ((0, 400), (0, 400), RateFinding.NOT_WORSE),
    ((20, 1000), (20, 1000), RateFinding.NOT_WORSE),
    ((40, 1000), (20, 1000), RateFinding.UNDECIDED),  # 2 points above, margin 2: not yet sure
    ((90, 1000), (20, 1000), RateFinding.WORSE),
    ((30, 100), (2, 100), RateFinding.WORSE),
    ((0, 400), (200, 400), RateFinding.NOT_WORSE),  # fewer alerts is never a failure
])
def test_rates_are_worse_only_when_significantly_beyond_the_margin(
    candidate: tuple[int, int], baseline: tuple[int, int], finding: RateFinding,
) -> None:
    assert compare_rates(candidate, baseline, margin=0.02, confidence=0.95).finding is finding


def test_a_higher_confidence_needs_more_evidence_for_the_same_rates() -> None:
    rates = ((60, 1000), (20, 1000))

    assert compare_rates(*rates, margin=0.02, confidence=0.9).finding is RateFinding.WORSE
    assert compare_rates(*rates, margin=0.02, confidence=0.999).finding is RateFinding.UNDECIDED


def test_comparing_with_an_empty_side_is_refused() -> None:
    with pytest.raises(ValueError, match="scored windows"):
        compare_rates((0, 0), (1, 10), margin=0.02, confidence=0.95)


def test_a_shadow_with_equal_rates_on_thin_evidence_waits_instead_of_passing() -> None:
    thin = ShadowEvidence(ScoreStats(30, 0), ScoreStats(30, 0), paired=30, agreed=30)

    assert judge_shadow(thin, POLICY) is None


def test_a_shadow_that_disagrees_fails_at_once_even_while_the_rates_are_undecided() -> None:
    thin = ShadowEvidence(ScoreStats(30, 0), ScoreStats(30, 0), paired=30, agreed=15)

    verdict = judge_shadow(thin, POLICY)

    assert verdict is not None and not verdict.passed and "agreement" in verdict.reason


def test_a_significantly_noisier_canary_fails_naming_its_bound_and_confidence() -> None:
    verdict = judge_canary(CanaryEvidence(ScoreStats(200, 40), ScoreStats(800, 8)), POLICY)

    assert verdict is not None and not verdict.passed
    assert "95% confidence" in verdict.reason and "canary alert rate 0.200" in verdict.reason
    assert verdict.metrics["alert_rate_delta_low"] > POLICY.max_alert_rate_delta
    assert verdict.metrics["alert_rate_delta"] == pytest.approx(0.19)


def test_a_passing_verdict_records_the_interval_it_passed_on(driver: Driver) -> None:
    driver.step()
    driver.advance(60)

    shadow = driver.rollout.evaluations["shadow"]

    assert shadow["passed"]
    assert shadow["metrics"]["alert_rate_delta_high"] <= POLICY.max_alert_rate_delta


def test_a_shadow_that_stays_undecided_times_out_and_is_withdrawn(driver: Driver) -> None:
    undecided = replace(GOOD, shadow=ShadowEvidence(ScoreStats(200, 12), ScoreStats(200, 4),
                                                    paired=200, agreed=196))
    driver.step(undecided)

    driver.advance(60, undecided)
    waiting = driver.rollout.state
    driver.advance(60, undecided)

    assert waiting == "shadowing"
    assert driver.rollout.state == "timed_out" and driver.rollout.pending_compensations == []
    assert driver.events()[-2:] == ["TimedOut", "Compensated"]


@pytest.mark.parametrize("confidence", [0.4, 1.0])
def test_a_confidence_outside_its_range_is_refused_naming_the_field(confidence: float) -> None:
    with pytest.raises(InvalidRolloutPolicyError, match="confidence"):
        RolloutPolicy(confidence=confidence)
