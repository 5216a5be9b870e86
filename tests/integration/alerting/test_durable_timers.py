"""Durable timers on real PostgreSQL: projected from events, fired once, kept across restarts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest

from pdm.domain.application import PdmApplication
from pdm.domain.assets import Asset
from pdm.domain.rules import NO_DATA_KIND
from pdm.domain.timers import Timer, TimerKind
from pdm.settings import Settings
from projections.runner import Projected, ProjectionRunner
from projections.service import Projector
from tests.integration.alerting.conftest import T0, events_of, raise_alert

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def projectors(event_store: Settings) -> Iterator[Any]:
    started: list[Projector] = []

    def start(now: datetime) -> Projector:
        projector = Projector(event_store, clock=Clock(now), no_data_every_s=0)
        started.append(projector)
        return projector

    yield start
    for projector in started:
        projector.close()


def timers(settings: Settings) -> list[tuple[Any, ...]]:
    with psycopg.connect(settings.postgres.conninfo(),
                         options=f"-c search_path={settings.postgres.schema_name}") as conn:
        return conn.execute("SELECT timer_key, kind, due_at, fired_at FROM alert_timers "
                            "ORDER BY due_at").fetchall()


def test_an_escalation_timer_survives_a_projector_restart_and_fires_once(
    event_store: Settings, domain: PdmApplication, projectors: Any
) -> None:
    alert_id = raise_alert(domain).alert_id
    first = projectors(T0 + timedelta(minutes=5))
    first.tick()
    first.close()

    after_restart = projectors(T0 + timedelta(minutes=61))
    after_restart.tick()
    after_restart.tick()
    projectors(T0 + timedelta(minutes=62)).tick()

    escalations = events_of(domain, alert_id, "Escalated")
    assert [e.timer_key for e in escalations] == [f"{alert_id}/escalate/1"]
    assert escalations[0].severity == "critical" and escalations[0].actor == "projector"
    assert escalations[0].correlation_id == f"timer:{alert_id}/escalate/1"
    pending = [(key, kind) for key, kind, _, fired in timers(event_store) if fired is None]
    assert pending == [(f"{alert_id}/renotify/2", "renotify"), (f"{alert_id}/escalate/2", "escalate")]


def test_an_acknowledged_alert_has_no_pending_timers(
    event_store: Settings, domain: PdmApplication, projectors: Any
) -> None:
    alert_id = raise_alert(domain).alert_id
    projector = projectors(T0)
    projector.tick()
    domain.acknowledge_alert(alert_id, "alice", "", actor="alice", correlation_id="req")

    projector.clock.now = T0 + timedelta(hours=3)  # type: ignore[attr-defined]
    projector.tick()

    assert timers(event_store) == []
    assert events_of(domain, alert_id, "Escalated") == events_of(domain, alert_id, "Renotified") == []


def test_a_timer_fired_again_after_a_crash_before_it_was_marked_records_nothing(
    event_store: Settings, domain: PdmApplication, projectors: Any
) -> None:
    alert_id = raise_alert(domain).alert_id
    projectors(T0).tick()
    due = T0 + timedelta(hours=1)
    timer = Timer(due, TimerKind.ESCALATE, alert_id, f"{alert_id}/escalate/1")
    domain.fire_timer(timer, due, actor="projector", correlation_id="crashed")  # fired, never marked
    saved = domain.position()

    projectors(due).tick()

    assert [e.correlation_id for e in events_of(domain, alert_id, "Escalated")] == ["crashed"]
    assert len(events_of(domain, alert_id, "Renotified")) == 1
    assert domain.position() == saved + 1


class FailingAfterWrite:
    """Writes its rows, then fails: the runner must keep neither the rows nor the position."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name = inner, inner.name

    def wants(self, topic: str) -> bool:
        return bool(self.inner.wants(topic))

    def project(self, cursor: psycopg.Cursor[Any], events: list[Projected]) -> None:
        self.inner.project(cursor, events)
        raise RuntimeError("crash mid-batch")

    def forget(self) -> None:
        self.inner.forget()


def test_a_batch_that_fails_midway_leaves_no_rows_and_no_position(
    event_store: Settings, domain: PdmApplication, projectors: Any
) -> None:
    raise_alert(domain)
    projector = projectors(T0)
    timers_projection = projector.runner.projections[0]
    plain = ProjectionRunner(projector.app, projector.conn, [FailingAfterWrite(timers_projection)])

    with pytest.raises(RuntimeError):
        plain.run_once()
    rows_after_crash, positions_after_crash = timers(event_store), plain.positions()
    projector.runner.catch_up()

    assert rows_after_crash == [] and positions_after_crash.get("alert_timers", 0) == 0
    assert len(timers(event_store)) == 2
    assert projector.runner.positions()["alert_timers"] == domain.position()


def archive(settings: Settings, asset_id: str, *stamps: datetime, flags: int = 0) -> None:
    with psycopg.connect(settings.postgres.conninfo(),
                         options=f"-c search_path={settings.postgres.schema_name}") as conn:
        for ts in stamps:
            conn.execute("SELECT readings_archive_ensure_month(%s)", (ts.date().replace(day=1),))
            conn.execute("INSERT INTO readings_archive (asset_id, ts, reading_id, channels, vals, flags) "
                         "VALUES (%s, %s, gen_random_uuid(), '{v}', '{1.0}', %s)", (asset_id, ts, flags))


def test_an_asset_that_goes_silent_raises_one_no_data_alert(
    event_store: Settings, domain: PdmApplication, projectors: Any
) -> None:
    archive(event_store, "pump-7", T0, T0 + timedelta(minutes=1))
    archive(event_store, "fan-2", T0 + timedelta(minutes=1))
    archive(event_store, "replay-1", T0 - timedelta(hours=5))
    archive(event_store, "old-1", T0 - timedelta(days=30))
    archive(event_store, "backfill-1", T0, flags=2)
    projector = projectors(T0 + timedelta(minutes=2))
    projector.tick()
    archive(event_store, "fan-2", T0 + timedelta(minutes=10))  # keeps reporting
    archive(event_store, "replay-1", T0 - timedelta(hours=4))  # past data, but arriving: alive

    for minute in (10, 17, 20, 24):
        projector.clock.now = T0 + timedelta(minutes=minute)  # type: ignore[attr-defined]
        projector.tick()

    alert = domain.latest_alert("pump-7", NO_DATA_KIND)
    assert alert is not None and alert.raised_at == T0 + timedelta(minutes=17)
    assert alert.state == "open" and alert.window_count == 1
    for quiet in ("fan-2", "replay-1", "old-1", "backfill-1"):
        assert domain.find(Asset.create_id(quiet)) is None, quiet
