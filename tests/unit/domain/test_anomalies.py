"""Anomalies in: one open alert per asset and kind, idempotent on the anomaly id."""

from __future__ import annotations

import pytest

from pdm.domain.alerts import Alert, AlertState, Severity
from pdm.domain.anomalies import AnomalyOutcome
from pdm.domain.application import PdmApplication
from pdm.domain.silences import SilenceScope
from tests.unit.domain.conftest import AUDIT, T0, alert_of, anomaly, minutes
from tests.unit.domain.racing import RacingRecorder, SharedRecorderApplication

pytestmark = pytest.mark.unit


def test_first_anomaly_raises_an_alert_at_the_readings_event_time(
    registered: PdmApplication,
) -> None:
    result = anomaly(registered, "an-1", at=T0, score=0.9)

    alert = registered.get_alert(alert_of(result))
    assert result.outcome is AnomalyOutcome.RAISED
    assert (alert.state, alert.severity, alert.raised_at) == (AlertState.OPEN, Severity.WARNING, T0)
    assert (alert.first_score, alert.threshold, alert.model_version) == (0.9, 0.8, "m-1")
    assert alert.id == Alert.create_id("pump-7", "vibration", 1)


def test_anomaly_delivered_three_times_raises_one_alert(registered: PdmApplication) -> None:
    first = anomaly(registered, "an-1")

    again = [anomaly(registered, "an-1") for _ in range(2)]

    assert [r.outcome for r in again] == [AnomalyOutcome.DUPLICATE] * 2
    assert {r.alert_id for r in again} == {first.alert_id}
    assert registered.get_alert(alert_of(first)).version == 1
    assert registered.get_asset("pump-7").current_episode("vibration") == 1


def test_second_anomaly_on_open_alert_raises_nothing_new(registered: PdmApplication) -> None:
    first = anomaly(registered, "an-1", at=T0, score=0.85)

    second = anomaly(registered, "an-2", at=T0 + minutes(2), score=0.95)

    alert = registered.get_alert(alert_of(first))
    assert (second.outcome, second.alert_id) == (AnomalyOutcome.UPDATED, first.alert_id)
    assert (alert.peak_score, alert.window_count, alert.last_seen) == (0.95, 2, T0 + minutes(2))


def test_staying_above_threshold_for_ten_minutes_escalates(registered: PdmApplication) -> None:
    first = anomaly(registered, "an-1", at=T0)

    later = anomaly(registered, "an-2", at=T0 + minutes(10))

    assert later.outcome is AnomalyOutcome.ESCALATED
    assert registered.get_alert(alert_of(first)).severity is Severity.CRITICAL


def test_anomaly_after_resolution_opens_the_next_episode(registered: PdmApplication) -> None:
    first = anomaly(registered, "an-1", at=T0)
    registered.resolve_alert(alert_of(first), "alice", "loose bolt", True, **AUDIT)

    second = anomaly(registered, "an-2", at=T0 + minutes(30))

    assert second.outcome is AnomalyOutcome.RAISED
    assert second.alert_id == Alert.create_id("pump-7", "vibration", 2)


def test_late_redelivery_into_a_resolved_episode_is_stale(registered: PdmApplication) -> None:
    first = anomaly(registered, "an-1", at=T0 + minutes(5))
    registered.resolve_alert(alert_of(first), "alice", "noise", False, **AUDIT)

    late = anomaly(registered, "an-0", at=T0)

    assert late.outcome is AnomalyOutcome.STALE
    assert registered.get_asset("pump-7").current_episode("vibration") == 1


def test_other_kinds_of_alert_on_one_asset_are_separate_episodes(
    registered: PdmApplication,
) -> None:
    vibration = anomaly(registered, "an-1")

    heat = anomaly(registered, "an-2", kind="temperature")

    assert heat.outcome is AnomalyOutcome.RAISED
    assert heat.alert_id != vibration.alert_id


def test_anomaly_for_an_unknown_asset_registers_it_unclassified(app: PdmApplication) -> None:
    result = anomaly(app, "an-1", asset_id="fan-3")

    asset = app.get_asset("fan-3")
    assert result.outcome is AnomalyOutcome.RAISED
    assert (asset.classified, asset.site, asset.kind) == (False, "unclassified", "unclassified")


def test_registering_an_auto_registered_asset_classifies_it(app: PdmApplication) -> None:
    anomaly(app, "an-1", asset_id="fan-3")

    app.register_asset("fan-3", "plant-2", "fan", {}, **AUDIT)

    asset = app.get_asset("fan-3")
    assert (asset.classified, asset.site, asset.kind) == (True, "plant-2", "fan")


def test_score_below_the_assets_own_threshold_raises_nothing(registered: PdmApplication) -> None:
    registered.change_thresholds("pump-7", {"vibration": 0.95}, **AUDIT)

    result = anomaly(registered, "an-1", score=0.9)

    assert (result.outcome, result.alert_id) == (AnomalyOutcome.BELOW_THRESHOLD, None)


def test_anomaly_for_a_decommissioned_asset_is_ignored(registered: PdmApplication) -> None:
    registered.decommission_asset("pump-7", "replaced", T0, **AUDIT)

    result = anomaly(registered, "an-1", at=T0 + minutes(1))

    assert result.outcome is AnomalyOutcome.ASSET_DECOMMISSIONED


def test_anomaly_during_a_site_silence_raises_a_suppressed_alert(
    registered: PdmApplication,
) -> None:
    registered.create_silence(SilenceScope.SITE, "plant-1", T0, T0 + minutes(60), "shutdown", "bob", **AUDIT)

    result = anomaly(registered, "an-1", at=T0 + minutes(5))

    alert = registered.get_alert(alert_of(result))
    assert (alert.state, alert.suppressed_until) == (AlertState.SUPPRESSED, T0 + minutes(60))


def test_anomaly_during_recorded_maintenance_raises_a_suppressed_alert(
    registered: PdmApplication,
) -> None:
    registered.record_maintenance("pump-7", "wo-1", "inspection", "ok", False, T0, T0 + minutes(30), **AUDIT)

    result = anomaly(registered, "an-1", at=T0 + minutes(5))

    assert registered.get_alert(alert_of(result)).state is AlertState.SUPPRESSED


def test_no_data_raises_an_alert_of_its_own_kind_once(registered: PdmApplication) -> None:
    first = registered.report_no_data("pump-7", T0, T0 + minutes(15), **AUDIT)

    again = registered.report_no_data("pump-7", T0, T0 + minutes(16), **AUDIT)

    assert first.outcome is AnomalyOutcome.RAISED
    assert registered.get_alert(alert_of(first)).kind == "no_data"
    assert again.outcome is AnomalyOutcome.DUPLICATE


def test_every_event_records_who_and_why(registered: PdmApplication) -> None:
    result = anomaly(registered, "an-1")

    events = [e for e in registered.events.get(alert_of(result)) if isinstance(e, Alert.Event)]

    assert [(e.actor, e.correlation_id) for e in events] == [("service:stream-worker", "readings/3/1042")]


def test_two_workers_auto_registering_one_asset_open_one_alert(app: PdmApplication) -> None:
    rival = SharedRecorderApplication(app.recorder)
    loser = SharedRecorderApplication(
        RacingRecorder(app.recorder, lambda: anomaly(rival, "an-1", asset_id="fan-3"))
    )

    result = anomaly(loser, "an-2", asset_id="fan-3", at=T0 + minutes(1))

    assert (result.outcome, result.alert_id) == (
        AnomalyOutcome.UPDATED,
        Alert.create_id("fan-3", "vibration", 1),
    )
    assert app.get_asset("fan-3").current_episode("vibration") == 1


def test_a_silence_shorter_than_the_no_data_limit_raises_nothing(
    registered: PdmApplication,
) -> None:
    last_reading = T0

    result = registered.report_no_data("pump-7", last_reading, T0 + minutes(14), **AUDIT)

    assert (result.outcome, result.alert_id) == (AnomalyOutcome.BELOW_THRESHOLD, None)
