"""A corrected reading inside an alert's windows amends the alert, through the real worker and projector."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pdm.contracts import ReadingV1
from pdm.domain.alerts import Alert
from pdm.domain.application import PdmApplication
from pdm.eventstore import open_application
from pdm.infra.kafka import ensure_topics
from pdm.ingest.publisher import ReadingPublisher
from pdm.settings import Settings
from pdm.simulation import Simulator
from projections.service import Projector
from tests.integration.conftest import WorkerProcess, archive_count, wait_until
from tests.integration.replay.conftest import connect

pytestmark = pytest.mark.integration
START = datetime(2026, 2, 3, tzinfo=UTC)
DURATION = timedelta(minutes=20)
KIND = "anomalous_score"
HEALTHY_BEFORE = timedelta(minutes=10)


async def publish_history(settings: Settings, sim: Simulator) -> int:
    await ensure_topics(settings.kafka)
    publisher = ReadingPublisher(settings.kafka)
    piece = sim.slice(0, sim.tick_count(DURATION))
    try:
        await publisher.publish_batches([piece.batch(a) for a in range(len(sim.assets))])
    finally:
        await publisher.stop()
    return piece.values.shape[0] * piece.values.shape[1]


async def publish_corrections(settings: Settings, asset_id: str, since: datetime, until: datetime) -> int:
    """The readings of (since, until] again, revision 1, with the healthy values of ten minutes
    before: the fault's onset windows now look like normal operation."""
    with connect(settings) as conn:
        rows = conn.execute("SELECT ts, channels, vals FROM readings_archive WHERE asset_id = %s AND ts > %s "
                            "AND ts <= %s ORDER BY ts", (asset_id, since - HEALTHY_BEFORE,
                                                         until - HEALTHY_BEFORE)).fetchall()
    corrected = [ReadingV1(asset_id=asset_id, ts=ts + HEALTHY_BEFORE, revision=1,
                           values=dict(zip(names, vals, strict=True))) for ts, names, vals in rows]
    publisher = ReadingPublisher(settings.kafka)
    try:
        await publisher.publish(corrected)
    finally:
        await publisher.stop()
    return len(corrected)


def amendments(domain: PdmApplication, alert: Alert) -> list[Any]:
    return [e for e in domain.events.get(alert.id) if isinstance(e, Alert.Amended)]


async def test_a_corrected_reading_in_an_alerts_window_records_an_amendment_once(
    archive: Settings, worker: Callable[[], WorkerProcess]
) -> None:
    sim = Simulator(2, rate_hz=1.0, seed=11, start=START, faults="overheat:pump-1@14m+5m")
    worker()
    sent = await publish_history(archive, sim)
    domain = open_application(archive.postgres)
    wait_until(lambda: domain.latest_alert("pump-1", KIND) is not None, 60, "the fault's alert")
    wait_until(lambda: archive_count(archive) >= sent, 30, "history archived")
    alert = domain.latest_alert("pump-1", KIND)
    assert alert is not None
    recorded = (alert.first_score, alert.peak_score)
    projector = Projector(archive, no_data_every_s=0, app=domain)
    projector.tick()
    untouched = amendments(domain, alert)

    corrected = await publish_corrections(archive, "pump-1", alert.raised_at - timedelta(seconds=30),
                                          alert.raised_at)
    wait_until(lambda: archive_count(archive, "revision > 0") >= corrected, 30, "corrections archived")
    projector.tick()
    projector.tick()
    amended = domain.get_alert(alert.id)
    events = amendments(domain, amended)
    projector.close()
    domain.close()
    assert untouched == []
    assert len(events) == 1 and events[0].actor == "projector"
    assert set(events[0].corrections) == {"first_score", "peak_score"}
    assert amended.first_score == events[0].corrections["first_score"] != recorded[0]
    assert "corrected reading" in events[0].reason
