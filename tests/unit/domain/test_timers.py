"""Durable timers: due when due, once per key, and a stale timer does nothing."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from pdm.domain.alerts import AlertState, Severity
from pdm.domain.application import PdmApplication
from pdm.domain.timers import Timer, TimerKind, due_timers, no_data_timer
from tests.unit.domain.conftest import AUDIT, T0, Who, alert_of, anomaly, minutes

pytestmark = pytest.mark.unit

TIMER_RUNNER: Who = {"actor": "service:timers", "correlation_id": "tick-7"}


def timer(due: int, key: str) -> Timer:
    return Timer(T0 + minutes(due), TimerKind.RENOTIFY, uuid4(), key)


def pending(app: PdmApplication, alert_id: UUID | None, kind: TimerKind) -> Timer:
    assert alert_id is not None
    (found,) = [t for t in app.pending_timers(alert_id) if t.kind is kind]
    return found


def test_only_timers_at_or_before_now_are_due_oldest_first() -> None:
    timers = [timer(20, "c"), timer(5, "a"), timer(10, "b"), timer(11, "d")]

    due = due_timers(timers, T0 + minutes(10))

    assert [t.key for t in due] == ["a", "b"]


def test_a_timer_stored_twice_is_due_once() -> None:
    twice = [timer(5, "a"), timer(5, "a")]

    due = due_timers(twice, T0 + minutes(10))

    assert len(due) == 1


def test_a_renotify_timer_fires_once_however_often_it_is_run(
    registered: PdmApplication,
) -> None:
    alert_id = alert_of(anomaly(registered, "an-1"))
    renotify = pending(registered, alert_id, TimerKind.RENOTIFY)

    positions = [registered.fire_timer(renotify, renotify.due_at, **TIMER_RUNNER) for _ in range(3)]

    alert = registered.get_alert(alert_id)
    assert alert.fired_timer_keys == [renotify.key]
    assert len(set(positions)) == 1
    assert renotify not in registered.pending_timers(alert_id)


def test_a_timer_fired_before_it_is_due_does_nothing(registered: PdmApplication) -> None:
    alert_id = alert_of(anomaly(registered, "an-1"))
    renotify = pending(registered, alert_id, TimerKind.RENOTIFY)

    registered.fire_timer(renotify, renotify.due_at - minutes(1), **TIMER_RUNNER)

    assert registered.get_alert(alert_id).fired_timer_keys == []


def test_an_escalation_timer_made_stale_by_an_acknowledgement_does_nothing(
    registered: PdmApplication,
) -> None:
    alert_id = alert_of(anomaly(registered, "an-1"))
    escalate = pending(registered, alert_id, TimerKind.ESCALATE)
    registered.acknowledge_alert(alert_id, "alice", "", **AUDIT)

    registered.fire_timer(escalate, escalate.due_at, **TIMER_RUNNER)

    alert = registered.get_alert(alert_id)
    assert (alert.state, alert.severity) == (AlertState.ACKNOWLEDGED, Severity.WARNING)


def test_an_unacknowledged_alert_escalates_when_its_timer_fires(
    registered: PdmApplication,
) -> None:
    alert_id = alert_of(anomaly(registered, "an-1"))
    escalate = pending(registered, alert_id, TimerKind.ESCALATE)

    registered.fire_timer(escalate, escalate.due_at, **TIMER_RUNNER)

    assert registered.get_alert(alert_id).severity is Severity.CRITICAL


def test_a_no_data_timer_raises_one_no_data_alert(registered: PdmApplication) -> None:
    asset = registered.get_asset("pump-7")
    silent = no_data_timer(asset.id, T0)

    first = registered.fire_timer(silent, silent.due_at, **TIMER_RUNNER)
    again = registered.fire_timer(silent, silent.due_at, **TIMER_RUNNER)

    alert = registered.latest_alert("pump-7", "no_data")
    assert alert is not None and alert.raised_at == T0 + minutes(15)
    assert first == again


def test_a_no_data_timer_fired_early_raises_nothing(registered: PdmApplication) -> None:
    silent = no_data_timer(registered.get_asset("pump-7").id, T0)

    registered.fire_timer(silent, silent.due_at - minutes(1), **TIMER_RUNNER)

    assert registered.latest_alert("pump-7", "no_data") is None
