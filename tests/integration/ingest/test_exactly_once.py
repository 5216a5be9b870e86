"""A worker killed in the middle of archiving leaves every reading in the archive exactly once."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaProducer

from pdm.contracts import ReadingBatchV1, topics
from pdm.infra.kafka import client_options, ensure_topics
from pdm.infra.migrations import migrate
from pdm.settings import Settings
from streams.gate import ReadingGate
from tests.integration.conftest import WorkerProcess, archive_count, archive_duplicates, wait_until

pytestmark = pytest.mark.integration


def batches(messages: int, rows: int, assets: int = 20) -> list[ReadingBatchV1]:
    start = int(time.time() * 1000) - messages * rows * 10
    return [
        ReadingBatchV1.model_validate({
            "schema": "reading_batch.v1", "asset_id": f"motor-{m % assets}",
            "ts": [start + (m * rows + r) * 10 for r in range(rows)],
            "channels": {"current_a": [10.0 + r % 5 for r in range(rows)],
                         "temperature_c": [50.0 + m % 9 for _ in range(rows)]},
        })
        for m in range(messages)
    ]


async def publish(settings: Settings, items: list[ReadingBatchV1]) -> None:
    await ensure_topics(settings.kafka)
    producer = AIOKafkaProducer(**client_options(settings.kafka), acks="all", linger_ms=5)
    await producer.start()
    futures = [await producer.send(settings.kafka.topic(topics.READINGS), b.to_json(),
                                   key=b.asset_id.encode()) for b in items]
    await asyncio.gather(*futures)
    await producer.stop()


@pytest.fixture
def migrated(settings: Settings) -> Settings:
    migrate(settings.postgres.conninfo(), settings.postgres.schema_name)
    return settings


async def test_worker_killed_mid_archive_leaves_each_reading_exactly_once(
    migrated: Settings, worker: Callable[..., WorkerProcess]
) -> None:
    total = 400 * 500
    await publish(migrated, batches(400, 500))
    first = worker(PDM_WORKER__GATE_MAX_RECORDS="10")
    wait_until(lambda: archive_count(migrated) > 0, 60, "archiving started")

    first.proc.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
    first.proc.wait(10)  # type: ignore[union-attr]
    archived_at_kill = archive_count(migrated)
    worker(PDM_WORKER__GATE_MAX_RECORDS="10")
    wait_until(lambda: archive_count(migrated) >= total, 120, "all readings archived")
    await asyncio.sleep(2)

    assert 0 < archived_at_kill < total
    assert archive_count(migrated) == total
    assert archive_duplicates(migrated) == 0


async def test_a_batch_archived_but_not_committed_is_merged_not_doubled(migrated: Settings) -> None:
    await publish(migrated, batches(6, 100, assets=3))
    crashing = ReadingGate(migrated)

    async def crash_before_commit(*_: object, **__: object) -> None:
        raise ConnectionAbortedError("killed between COPY and commit")

    crashing._commit = crash_before_commit  # type: ignore[method-assign]
    with pytest.raises(ConnectionAbortedError):
        await asyncio.wait_for(crashing.run(), 60)
    archived_before_restart = archive_count(migrated)
    restarted = ReadingGate(migrated)
    task = asyncio.create_task(restarted.run())
    await asyncio.to_thread(wait_until, lambda: restarted.stats.messages >= 6, 60, "redelivery processed")
    restarted.stopping.set()
    await asyncio.wait_for(task, 30)

    assert archived_before_restart > 0
    assert restarted.stats.redeliveries_merged >= 1
    assert archive_count(migrated) == 600 and archive_duplicates(migrated) == 0


async def test_a_lost_database_connection_stalls_the_gate_and_loses_nothing(migrated: Settings) -> None:
    import psycopg

    first, second = batches(40, 100, assets=4)[:20], batches(40, 100, assets=4)[20:]
    await publish(migrated, first)
    gate = ReadingGate(migrated)
    task = asyncio.create_task(gate.run())
    await asyncio.to_thread(wait_until, lambda: archive_count(migrated) == 2000, 60, "first half archived")

    with psycopg.connect(migrated.postgres.conninfo(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (gate.writer.conn.info.backend_pid,))
    await publish(migrated, second)
    await asyncio.to_thread(wait_until, lambda: gate.stats.messages >= 40 or task.done(), 60, "second half")
    gate.stopping.set()
    await asyncio.wait_for(task, 30)

    assert archive_count(migrated) == 4000 and archive_duplicates(migrated) == 0
