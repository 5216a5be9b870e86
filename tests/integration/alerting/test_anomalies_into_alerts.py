"""Anomalies on the real broker become alerts through the real consumer loop, exactly once."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from pdm.contracts import AnomalyV1, SourceOffsetV1, topics
from pdm.domain.alerts import Alert
from pdm.domain.application import PdmApplication
from pdm.infra import kafka as kafka_clients
from pdm.settings import Settings
from streams.alerting import AnomalyAlerter
from tests.integration.alerting.conftest import T0, events_of

pytestmark = pytest.mark.integration


class CrashBeforeCommit(Exception):
    pass


class CrashingAlerter(AnomalyAlerter):
    """Dies after the event store saved and before the offsets were committed."""

    async def commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        raise CrashBeforeCommit


def anomaly(minute: int = 0) -> AnomalyV1:
    return AnomalyV1(asset_id="pump-7", kind="vibration", onset_ts=T0 + timedelta(minutes=minute),
                     score=0.9, threshold=0.8, model_version="m-1", feature_set_version="fs-1",
                     sources=[SourceOffsetV1(partition=3, offset=1042)])


async def publish(settings: Settings, *messages: AnomalyV1) -> None:
    await kafka_clients.ensure_topics(settings.kafka)
    producer = kafka_clients.producer(settings.kafka)
    await producer.start()
    try:
        for m in messages:
            await producer.send_and_wait(settings.kafka.topic(topics.ANOMALIES),
                                         m.model_dump_json(by_alias=True).encode(), key=m.asset_id.encode())
    finally:
        await producer.stop()


async def consume(alerter: AnomalyAlerter, messages: int, timeout_s: float = 40) -> None:
    """Runs the loop until it has handled `messages`, then stops it as a shutdown would."""
    task = asyncio.create_task(alerter.run())
    deadline = time.monotonic() + timeout_s
    while alerter.stats.messages < messages and not task.done() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    alerter.stopping.set()
    await task
    assert alerter.stats.messages == messages, alerter.stats


async def test_an_anomaly_delivered_three_times_raises_one_alert(
    event_store: Settings, domain: PdmApplication
) -> None:
    await publish(event_store, anomaly(), anomaly(), anomaly())

    alerter = AnomalyAlerter(event_store)
    await consume(alerter, 3)

    assert alerter.stats.outcomes == {"raised": 1, "duplicate": 2}
    alert: Alert = domain.get_alert(Alert.create_id("pump-7", "vibration", 1))
    assert alert.window_count == 1 and len(events_of(domain, alert.id)) == 1
    raised = events_of(domain, alert.id, "Raised")[0]
    assert raised.actor == "stream-worker"
    assert raised.correlation_id.startswith(f"anomaly:{anomaly().anomaly_id} via ")
    assert raised.correlation_id.endswith("from pdm.readings.v1/3/1042")


async def test_a_worker_killed_before_committing_raises_no_duplicate_on_restart(
    event_store: Settings, domain: PdmApplication
) -> None:
    await publish(event_store, anomaly())
    with pytest.raises(CrashBeforeCommit):
        await CrashingAlerter(event_store).run()
    saved = domain.position()

    restarted = AnomalyAlerter(event_store)
    await consume(restarted, 1)

    assert saved > 0 and domain.position() == saved
    assert restarted.stats.outcomes == {"duplicate": 1}
    assert len(events_of(domain, Alert.create_id("pump-7", "vibration", 1))) == 1


async def test_a_message_that_is_not_an_anomaly_is_skipped_not_fatal(
    event_store: Settings, domain: PdmApplication
) -> None:
    await kafka_clients.ensure_topics(event_store.kafka)
    producer = kafka_clients.producer(event_store.kafka)
    await producer.start()
    await producer.send_and_wait(event_store.kafka.topic(topics.ANOMALIES), b'{"schema": "nope"}')
    await producer.stop()
    await publish(event_store, anomaly())

    alerter = AnomalyAlerter(event_store)
    await consume(alerter, 2)

    assert alerter.stats.rejected == 1 and alerter.stats.outcomes == {"raised": 1}


async def test_the_stream_worker_raises_an_alert_for_a_published_anomaly(
    event_store: Settings, domain: PdmApplication, worker: Any
) -> None:
    # The child sees only the environment: without event_store's horizon, an anomaly at T0 pages or
    # is recorded as history depending on how long ago T0 is by the wall clock.
    running = worker(PDM_WORKER__PAGE_HORIZON_S=str(event_store.worker.page_horizon_s))
    await publish(event_store, anomaly())

    deadline = time.monotonic() + 45
    while domain.latest_alert("pump-7", "vibration") is None and time.monotonic() < deadline:
        await asyncio.sleep(0.5)

    alert = domain.latest_alert("pump-7", "vibration")
    assert alert is not None, running.health()
    assert alert.state == "open"  # paged, not recorded as history
    assert running.health()["alerting"]["outcomes"] == {"raised": 1}
