"""Historical anomalies (older than the page horizon) are recorded as alerts nobody is paged for."""

from __future__ import annotations

import pytest

from pdm.domain.alerts import Alert, AlertState
from pdm.domain.anomalies import HISTORICAL_UNTIL, AnomalyOutcome
from pdm.domain.application import PdmApplication
from pdm.domain.commands import ApplyAnomaly
from pdm.domain.rules import needs_attention
from tests.unit.domain.conftest import T0, WORKER, alert_of, anomaly, minutes

pytestmark = pytest.mark.unit


def events_of(app: PdmApplication, alert: Alert) -> list[type]:
    return [type(e) for e in app.repository.event_store.get(alert.id)]


def test_historical_anomaly_raises_and_suppresses_in_one_save(registered: PdmApplication) -> None:
    before = registered.position()

    result = anomaly(registered, "an-1", at=T0, historical=True)

    alert = registered.get_alert(alert_of(result))
    assert result.outcome is AnomalyOutcome.RAISED
    assert events_of(registered, alert) == [Alert.Raised, Alert.Suppressed]
    assert (alert.state, alert.suppressed_until) == (AlertState.SUPPRESSED, HISTORICAL_UNTIL)
    assert not needs_attention(alert, T0 + minutes(60 * 24 * 365))
    assert result.position == before + 3  # EpisodeStarted, Raised, Suppressed: one transaction


def test_historical_suppression_names_backfill_and_history_as_the_reason(registered: PdmApplication) -> None:
    result = anomaly(registered, "an-1", at=T0, historical=True)

    suppressed = registered.repository.event_store.get(alert_of(result))
    last = list(suppressed)[-1]
    assert isinstance(last, Alert.Suppressed)
    assert (last.by, last.reason) == ("backfill", "historical")


def test_live_anomaly_still_raises_an_open_alert(registered: PdmApplication) -> None:
    result = anomaly(registered, "an-1", at=T0, historical=False)

    assert registered.get_alert(alert_of(result)).state is AlertState.OPEN


def test_historical_anomaly_on_an_open_alert_updates_it_without_muting_it(registered: PdmApplication) -> None:
    first = anomaly(registered, "an-1", at=T0)

    later = anomaly(registered, "an-2", at=T0 + minutes(1), historical=True)

    assert later.outcome is AnomalyOutcome.UPDATED
    assert registered.get_alert(alert_of(first)).state is AlertState.OPEN


def test_redelivered_historical_anomaly_records_nothing_new(registered: PdmApplication) -> None:
    first = anomaly(registered, "an-1", at=T0, historical=True)

    again = anomaly(registered, "an-1", at=T0, historical=True)

    assert again.outcome is AnomalyOutcome.DUPLICATE
    assert registered.get_alert(alert_of(first)).version == 2


def test_the_apply_anomaly_command_carries_the_historical_flag(registered: PdmApplication) -> None:
    command = ApplyAnomaly(anomaly_id="an-1", asset_id="pump-7", kind="vibration", score=0.9,
                           threshold=0.8, model_version="m-1", detected_at=T0, historical=True, **WORKER)

    result = registered.handle(command)

    assert not isinstance(result, int)
    assert registered.get_alert(alert_of(result)).state is AlertState.SUPPRESSED
