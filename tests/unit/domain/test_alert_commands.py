"""Human decisions on alerts: the state machine, positions, not-found and concurrency."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from pdm.domain.alerts import AlertState, Severity
from pdm.domain.application import PdmApplication
from pdm.domain.errors import (
    AlertAlreadyResolvedError,
    AlertNotFoundError,
    AlertNotOpenError,
    ConcurrentChangeError,
    SeverityNotHigherError,
)
from tests.unit.domain.conftest import AUDIT, T0, Who, anomaly, minutes
from tests.unit.domain.racing import RacingRecorder, SharedRecorderApplication

pytestmark = pytest.mark.unit

ALICE: Who = {"actor": "api-key:alice", "correlation_id": "req-a"}
BOB: Who = {"actor": "api-key:bob", "correlation_id": "req-b"}


@pytest.fixture
def alert_id(registered: PdmApplication) -> UUID:
    result = anomaly(registered, "an-1")
    assert result.alert_id is not None
    return result.alert_id


def test_acknowledging_returns_the_position_of_the_new_event(
    registered: PdmApplication, alert_id: UUID
) -> None:
    before = registered.position()

    position = registered.acknowledge_alert(alert_id, "alice", "looking", **ALICE)

    alert = registered.get_alert(alert_id)
    assert position == registered.recorder.max_notification_id() == before + 1
    assert (alert.state, alert.acknowledged_by) == (AlertState.ACKNOWLEDGED, "alice")


def test_alert_goes_open_acknowledged_resolved_with_a_training_label(
    registered: PdmApplication, alert_id: UUID
) -> None:
    registered.acknowledge_alert(alert_id, "alice", "looking", **ALICE)

    registered.resolve_alert(alert_id, "alice", "bearing worn", True, **ALICE)

    alert = registered.get_alert(alert_id)
    assert (alert.state, alert.resolution, alert.fault_confirmed) == (
        AlertState.RESOLVED,
        "bearing worn",
        True,
    )


def test_acknowledging_twice_is_refused_with_the_current_state(
    registered: PdmApplication, alert_id: UUID
) -> None:
    registered.acknowledge_alert(alert_id, "alice", "", **ALICE)

    with pytest.raises(AlertNotOpenError) as refused:
        registered.acknowledge_alert(alert_id, "bob", "", **BOB)

    assert refused.value.state == AlertState.ACKNOWLEDGED


def test_resolving_a_resolved_alert_is_refused_with_its_state(
    registered: PdmApplication, alert_id: UUID
) -> None:
    registered.resolve_alert(alert_id, "alice", "fixed", True, **ALICE)

    with pytest.raises(AlertAlreadyResolvedError) as refused:
        registered.resolve_alert(alert_id, "bob", "fixed too", False, **BOB)

    assert (refused.value.state, refused.value.alert_id) == (AlertState.RESOLVED, alert_id)


def test_suppressing_mutes_an_alert_until_the_given_time(registered: PdmApplication, alert_id: UUID) -> None:
    registered.suppress_alert(alert_id, "bob", "known issue", T0 + minutes(60), **BOB)

    alert = registered.get_alert(alert_id)
    assert alert.state is AlertState.SUPPRESSED
    assert alert.is_muted(T0 + minutes(59)) and not alert.is_muted(T0 + minutes(60))


def test_a_suppressed_alert_can_still_be_acknowledged(registered: PdmApplication, alert_id: UUID) -> None:
    registered.suppress_alert(alert_id, "bob", "known issue", T0 + minutes(60), **BOB)

    registered.acknowledge_alert(alert_id, "alice", "taking it", **ALICE)

    assert registered.get_alert(alert_id).state is AlertState.ACKNOWLEDGED


def test_escalating_to_a_lower_severity_is_refused(registered: PdmApplication, alert_id: UUID) -> None:
    registered.escalate_alert(alert_id, Severity.EMERGENCY, "fire", **BOB)

    with pytest.raises(SeverityNotHigherError):
        registered.escalate_alert(alert_id, Severity.CRITICAL, "less fire", **BOB)


def test_amending_after_a_reading_correction_keeps_the_state(
    registered: PdmApplication, alert_id: UUID
) -> None:
    registered.acknowledge_alert(alert_id, "alice", "", **ALICE)

    registered.amend_alert(
        alert_id, {"first_score": 0.85, "peak_score": 0.85}, "reading 17 corrected", **AUDIT
    )

    alert = registered.get_alert(alert_id)
    assert (alert.first_score, alert.peak_score, alert.state) == (
        0.85,
        0.85,
        AlertState.ACKNOWLEDGED,
    )


def test_an_unknown_alert_id_is_not_found(registered: PdmApplication) -> None:
    unknown = uuid4()

    with pytest.raises(AlertNotFoundError) as refused:
        registered.acknowledge_alert(unknown, "alice", "", **ALICE)

    assert refused.value.aggregate_id == unknown


def test_a_stale_expected_version_is_refused_naming_what_changed(
    registered: PdmApplication, alert_id: UUID
) -> None:
    seen = registered.get_alert(alert_id).version
    registered.suppress_alert(alert_id, "bob", "noise", T0 + minutes(5), **BOB)

    with pytest.raises(ConcurrentChangeError) as refused:
        registered.acknowledge_alert(alert_id, "alice", "", **ALICE, expected_version=seen)

    assert refused.value.changes == ("Suppressed by api-key:bob",)
    assert (refused.value.expected_version, refused.value.actual_version) == (seen, seen + 1)


def test_two_processes_acknowledging_one_version_let_exactly_one_win(
    registered: PdmApplication, alert_id: UUID
) -> None:
    other = SharedRecorderApplication(registered.recorder)
    seen = registered.get_alert(alert_id).version

    outcomes: list[object] = []
    for application, who in ((registered, ALICE), (other, BOB)):
        try:
            application.acknowledge_alert(alert_id, who["actor"], "", **who, expected_version=seen)
            outcomes.append("won")
        except ConcurrentChangeError as error:
            outcomes.append(error.changes)

    assert outcomes == ["won", ("Acknowledged by api-key:alice",)]


def test_two_processes_racing_without_versions_let_exactly_one_win(
    registered: PdmApplication, alert_id: UUID
) -> None:
    rival = SharedRecorderApplication(registered.recorder)
    loser = SharedRecorderApplication(
        RacingRecorder(registered.recorder, lambda: rival.acknowledge_alert(alert_id, "alice", "", **ALICE))
    )

    with pytest.raises(ConcurrentChangeError) as lost:
        loser.acknowledge_alert(alert_id, "bob", "", **BOB)

    assert lost.value.changes == ("Acknowledged by api-key:alice",)
    assert registered.get_alert(alert_id).acknowledged_by == "alice"


def test_an_expected_version_from_the_future_is_refused(registered: PdmApplication, alert_id: UUID) -> None:
    actual = registered.get_alert(alert_id).version

    with pytest.raises(ConcurrentChangeError) as refused:
        registered.acknowledge_alert(alert_id, "alice", "", **ALICE, expected_version=actual + 5)

    assert (refused.value.actual_version, refused.value.changes) == (actual, ())
