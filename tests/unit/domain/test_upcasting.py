"""Stored events outlive their classes' shapes: old versions are upcast on load."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from pdm.domain.alerts import Alert, AlertState
from pdm.domain.application import PdmApplication
from tests.unit.domain.conftest import T0, alert_of, anomaly

pytestmark = pytest.mark.unit


def stored_v1_resolution(app: PdmApplication, alert: Alert) -> StoredEvent:
    """A Resolved event as version 1 wrote it: no class_version, no fault_confirmed."""
    state = {
        "timestamp": T0,
        "actor": "api-key:alice",
        "correlation_id": "req-2019",
        "by": "alice",
        "resolution": "replaced seal",
    }
    return StoredEvent(
        originator_id=alert.id,
        originator_version=alert.version + 1,
        topic=get_topic(Alert.Resolved),
        state=app.mapper.transcoder.encode(state),
    )


def test_stored_version_one_event_is_upcast(registered: PdmApplication) -> None:
    alert = registered.get_alert(alert_of(anomaly(registered, "an-1")))
    registered.recorder.insert_events([stored_v1_resolution(registered, alert)])

    loaded = registered.get_alert(alert.id)

    assert (loaded.state, loaded.resolution) == (AlertState.RESOLVED, "replaced seal")
    assert loaded.fault_confirmed is None


def test_new_resolutions_are_stored_as_version_two(registered: PdmApplication) -> None:
    alert_id = alert_of(anomaly(registered, "an-1"))

    registered.resolve_alert(alert_id, "alice", "fixed", False, actor="api-key:alice", correlation_id="req-3")

    (stored,) = registered.recorder.select_events(alert_id, gt=1)
    assert b'"class_version":2' in stored.state
    assert b'"fault_confirmed":false' in stored.state
