"""The Alert aggregate's state machine, table by table, without an application."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pdm.domain.alerts import Alert, AlertState, Severity
from pdm.domain.errors import AlertAlreadyResolvedError, AlertNotOpenError, AlertStateError
from tests.unit.domain.conftest import AUDIT, BY_OPS, T0, minutes

pytestmark = pytest.mark.unit

Action = Callable[[Alert], object]

ACTIONS: dict[str, Action] = {
    "acknowledge": lambda a: a.acknowledge("alice", "", BY_OPS),
    "resolve": lambda a: a.resolve("alice", "fixed", True, BY_OPS),
    "suppress": lambda a: a.suppress("bob", "noise", T0 + minutes(30), BY_OPS),
}

REACHED_BY: dict[AlertState, list[str]] = {
    AlertState.OPEN: [],
    AlertState.ACKNOWLEDGED: ["acknowledge"],
    AlertState.SUPPRESSED: ["suppress"],
    AlertState.RESOLVED: ["resolve"],
}

# state, action -> resulting state, or the error that refuses it
TABLE: list[tuple[AlertState, str, AlertState | type[AlertStateError]]] = [
    (AlertState.OPEN, "acknowledge", AlertState.ACKNOWLEDGED),
    (AlertState.OPEN, "resolve", AlertState.RESOLVED),
    (AlertState.OPEN, "suppress", AlertState.SUPPRESSED),
    (AlertState.ACKNOWLEDGED, "acknowledge", AlertNotOpenError),
    (AlertState.ACKNOWLEDGED, "resolve", AlertState.RESOLVED),
    (AlertState.ACKNOWLEDGED, "suppress", AlertState.SUPPRESSED),
    (AlertState.SUPPRESSED, "acknowledge", AlertState.ACKNOWLEDGED),
    (AlertState.SUPPRESSED, "resolve", AlertState.RESOLVED),
    (AlertState.SUPPRESSED, "suppress", AlertState.SUPPRESSED),
    (AlertState.RESOLVED, "acknowledge", AlertNotOpenError),
    (AlertState.RESOLVED, "resolve", AlertAlreadyResolvedError),
    (AlertState.RESOLVED, "suppress", AlertAlreadyResolvedError),
]


def new_alert() -> Alert:
    return Alert("pump-7", "vibration", 1, Severity.WARNING, 0.9, 0.8, "m-1", T0, "an-1", **AUDIT)


def alert_in(state: AlertState) -> Alert:
    alert = new_alert()
    for action in REACHED_BY[state]:
        ACTIONS[action](alert)
    return alert


@pytest.mark.parametrize(("state", "action", "expected"), TABLE)
def test_each_transition_follows_the_table(
    state: AlertState, action: str, expected: AlertState | type[AlertStateError]
) -> None:
    alert = alert_in(state)

    if isinstance(expected, AlertState):
        ACTIONS[action](alert)
        assert alert.state == expected
    else:
        with pytest.raises(expected) as refused:
            ACTIONS[action](alert)
        assert refused.value.state == state


def test_a_refused_transition_records_no_event() -> None:
    alert = alert_in(AlertState.RESOLVED)
    pending = len(alert.pending_events)

    with pytest.raises(AlertAlreadyResolvedError):
        ACTIONS["resolve"](alert)

    assert len(alert.pending_events) == pending


def test_replaying_the_events_rebuilds_the_same_alert() -> None:
    alert = alert_in(AlertState.SUPPRESSED)
    alert.record_anomaly("an-2", 0.97, T0 + minutes(3), BY_OPS)
    events = alert.collect_events()

    replayed = None
    for e in events:
        replayed = e.mutate(replayed)

    assert replayed == alert


def test_the_alert_id_is_the_same_for_the_same_asset_kind_and_episode() -> None:
    first = Alert.create_id("pump-7", "vibration", 1)

    same, next_episode = (
        Alert.create_id("pump-7", "vibration", 1),
        Alert.create_id("pump-7", "vibration", 2),
    )

    assert first == same != next_episode


def test_severity_never_escalates_past_the_top() -> None:
    top = Severity.EMERGENCY

    raised = top.raised()

    assert raised is Severity.EMERGENCY and Severity.WARNING.raised() is Severity.CRITICAL
