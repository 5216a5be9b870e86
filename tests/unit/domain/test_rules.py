"""Alert rules are pure: severity, re-notification, escalation, no-data and silences."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pdm.domain.alerts import Alert, Severity
from pdm.domain.rules import (
    AlertPolicy,
    is_no_data,
    needs_attention,
    next_escalation_at,
    next_renotify_at,
    severity_for,
)
from pdm.domain.silences import Silence, SilenceScope, is_silenced
from tests.unit.domain.conftest import AUDIT, BY_OPS, T0, minutes

pytestmark = pytest.mark.unit

POLICY = AlertPolicy()
scores = st.floats(min_value=0.01, max_value=1e6, allow_nan=False)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30))


def silence(scope: SilenceScope, target: str, start: int, end: int) -> Silence:
    return Silence("s-1", scope, target, T0 + minutes(start), T0 + minutes(end), "work", "bob")


def open_alert() -> Alert:
    return Alert("pump-7", "vibration", 1, Severity.WARNING, 0.9, 0.8, "m-1", T0, "an-1", **AUDIT)


def test_a_score_far_above_threshold_starts_critical() -> None:
    far, near = 1.5 * 0.8, 0.81

    severities = severity_for(far, 0.8, timedelta(0)), severity_for(near, 0.8, timedelta(0))

    assert severities == (Severity.CRITICAL, Severity.WARNING)


def test_ten_minutes_above_threshold_adds_one_level() -> None:
    just_short, long_enough = minutes(9.99), minutes(10)

    severities = severity_for(0.9, 0.8, just_short), severity_for(0.9, 0.8, long_enough)

    assert severities == (Severity.WARNING, Severity.CRITICAL)


@given(score=scores, threshold=scores, shorter=durations, longer=durations)
def test_severity_never_falls_as_an_episode_lasts(
    score: float, threshold: float, shorter: timedelta, longer: timedelta
) -> None:
    shorter, longer = sorted((shorter, longer))

    before, after = (severity_for(score, threshold, d) for d in (shorter, longer))

    assert before.rank <= after.rank


@given(low=scores, high=scores, threshold=scores, duration=durations)
def test_severity_never_falls_as_the_score_rises(
    low: float, high: float, threshold: float, duration: timedelta
) -> None:
    low, high = sorted((low, high))

    before, after = (severity_for(s, threshold, duration) for s in (low, high))

    assert before.rank <= after.rank


def test_an_unacknowledged_alert_is_sent_again_after_the_interval() -> None:
    alert = open_alert()

    due = next_renotify_at(alert, POLICY)

    assert due == T0 + POLICY.renotify_every


def test_an_acknowledged_alert_is_neither_sent_again_nor_escalated() -> None:
    alert = open_alert()

    alert.acknowledge("alice", "", BY_OPS)

    assert next_renotify_at(alert) is None and next_escalation_at(alert) is None


def test_a_suppression_pushes_re_notification_to_its_end() -> None:
    alert = open_alert()

    alert.suppress("bob", "noise", T0 + minutes(90), BY_OPS)

    assert next_renotify_at(alert) == T0 + minutes(90)
    assert not needs_attention(alert, T0 + minutes(89))
    assert needs_attention(alert, T0 + minutes(90))


def test_an_unacknowledged_alert_escalates_after_an_hour() -> None:
    alert = open_alert()

    due = next_escalation_at(alert)

    assert due == T0 + timedelta(hours=1)


def test_a_reporting_asset_that_goes_silent_is_no_data() -> None:
    last = T0

    decisions = [is_no_data(last, T0 + minutes(m)) for m in (14, 15)]

    assert decisions == [False, True]


def test_an_asset_that_never_reported_is_not_no_data() -> None:
    never = None

    decision = is_no_data(never, T0 + timedelta(days=1))

    assert decision is False


@pytest.mark.parametrize(
    ("silences", "at", "expected"),
    [
        ([silence(SilenceScope.ASSET, "pump-7", 0, 60)], 30, True),
        ([silence(SilenceScope.ASSET, "pump-8", 0, 60)], 30, False),
        ([silence(SilenceScope.SITE, "plant-1", 0, 60)], 30, True),
        ([silence(SilenceScope.SITE, "plant-2", 0, 60)], 30, False),
        ([silence(SilenceScope.ASSET, "pump-7", 0, 60)], 60, False),
        ([silence(SilenceScope.ASSET, "pump-7", 10, 60)], 9, False),
        ([], 30, False),
    ],
)
def test_a_silence_covers_its_asset_or_site_from_start_until_end(
    silences: list[Silence], at: int, expected: bool
) -> None:
    t = T0 + minutes(at)

    silenced = is_silenced("pump-7", "plant-1", t, silences)

    assert silenced is expected
