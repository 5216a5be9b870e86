"""The alert_timers projection's decisions, over an in-memory event store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic

from pdm.domain.alerts import Alert
from pdm.domain.application import PdmApplication
from pdm.domain.assets import Asset
from projections.runner import Projected
from projections.timers import AlertTimersProjection

pytestmark = pytest.mark.unit
T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
WHO = {"actor": "test", "correlation_id": "t"}


@pytest.fixture
def app() -> Iterator[PdmApplication]:
    application = PdmApplication(env={"PDM_PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield application
    application.close()


def raise_alert(app: PdmApplication, asset_id: str = "pump-7") -> UUID:
    result = app.apply_anomaly("a-1", asset_id, "vibration", 0.9, 0.8, "m-1", T0, **WHO)
    assert result.alert_id is not None
    return result.alert_id


def log_of(app: PdmApplication, after: int = 0) -> list[Projected]:
    projection = AlertTimersProjection(app)
    notifications = app.recorder.select_notifications(after + 1, 1000)
    return [Projected(n.id, app.mapper.to_domain_event(n)) for n in notifications if projection.wants(n.topic)]


def test_a_raised_alert_has_a_renotify_and_an_escalate_timer(app: PdmApplication) -> None:
    alert_id = raise_alert(app)

    rows, touched = AlertTimersProjection(app).timer_rows(log_of(app))

    assert touched == {alert_id}
    assert [(key, kind, due) for key, kind, _, _, due, _ in rows] == [
        (f"{alert_id}/renotify/1", "renotify", T0 + timedelta(minutes=30)),
        (f"{alert_id}/escalate/1", "escalate", T0 + timedelta(hours=1)),
    ]


def test_an_acknowledged_alert_has_no_timers_left(app: PdmApplication) -> None:
    alert_id = raise_alert(app)
    app.acknowledge_alert(alert_id, "alice", "", **WHO)

    rows, touched = AlertTimersProjection(app).timer_rows(log_of(app))

    assert rows == [] and touched == {alert_id}


def test_a_suppression_moves_the_renotify_timer_to_its_end(app: PdmApplication) -> None:
    alert_id = raise_alert(app)
    app.suppress_alert(alert_id, "alice", "known", T0 + timedelta(hours=4), **WHO)

    rows, _ = AlertTimersProjection(app).timer_rows(log_of(app))

    assert (f"{alert_id}/renotify/1", T0 + timedelta(hours=4)) in [(r[0], r[4]) for r in rows]


def test_a_projection_that_forgot_its_state_loads_the_alert_as_it_was_before_the_event(
    app: PdmApplication,
) -> None:
    alert_id = raise_alert(app)
    projection = AlertTimersProjection(app)
    projection.timer_rows(log_of(app))
    seen = app.position()
    app.acknowledge_alert(alert_id, "alice", "", **WHO)
    projection.forget()

    rows, _ = projection.timer_rows(log_of(app, after=seen))

    assert rows == [] and projection.alerts[alert_id].acknowledged_by == "alice"


def test_a_resolved_alert_is_not_kept_in_memory(app: PdmApplication) -> None:
    alert_id = raise_alert(app)
    app.resolve_alert(alert_id, "bob", "fixed", True, **WHO)
    projection = AlertTimersProjection(app)

    projection.timer_rows(log_of(app))

    assert alert_id not in projection.alerts


def test_only_alert_events_are_wanted() -> None:
    projection = AlertTimersProjection.__new__(AlertTimersProjection)

    assert projection.wants(get_topic(Alert.Acknowledged))
    assert not projection.wants(get_topic(Asset.AlertEpisodeStarted))
