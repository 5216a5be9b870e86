"""A micro-batch that fails mid-processing is never committed, so a restart redelivers it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from pdm.infra.kafka import client_options, ensure_topics
from pdm.settings import KafkaSettings, Settings
from tests.integration.streaming.batch_crash_app import SKIP_TO

pytestmark = pytest.mark.integration
MESSAGES = 40


async def run_crashing_worker(settings: Settings, mode: str, tmp_path: Path) -> tuple[int, list[int], int]:
    """(exit code, values of the batch that failed, the group's committed offset after the worker exited)."""
    kafka, topic, group = await one_partition_topic(settings, f"batch-acks-{mode}")
    await publish(kafka, topic, range(MESSAGES))
    record = tmp_path / f"{mode}.jsonl"
    argv = app_argv(kafka, topic, group, mode, record)
    worker = subprocess.run(argv, capture_output=True, timeout=90, check=False)
    batches = [orjson.loads(line) for line in record.read_bytes().splitlines()]
    assert len(batches) >= 2, batches
    consumer = AIOKafkaConsumer(group_id=group, enable_auto_commit=False, **client_options(kafka))
    await consumer.start()
    try:
        committed = await consumer.committed(TopicPartition(topic, 0))
    finally:
        await consumer.stop()
    return worker.returncode, batches[1], committed or 0


async def test_a_failed_batch_is_not_committed_and_is_redelivered(settings: Settings, tmp_path: Path) -> None:
    code, failed, committed = await run_crashing_worker(settings, "processed", tmp_path)
    assert code != 0, "the worker exits, so its supervisor restarts it"
    assert committed <= failed[0], f"committed {committed}, past the failed batch starting at {failed[0]}"


async def test_a_bare_take_loop_commits_a_failed_batch(settings: Settings, tmp_path: Path) -> None:
    """Why `process_batches` exists: with a bare `stream.take()` loop the agent restarts in place
    and the failed batch is committed as if it had been processed."""
    _, failed, committed = await run_crashing_worker(settings, "plain", tmp_path)
    assert committed > failed[-1]


async def one_partition_topic(settings: Settings, prefix: str) -> tuple[KafkaSettings, str, str]:
    """A fresh one-partition topic and a group name for it."""
    kafka = settings.kafka.model_copy(update={"partitions": 1})
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    await ensure_topics(kafka, (name,))
    return kafka, kafka.topic(name), kafka.topic(f"{name}-group")


def app_argv(kafka: KafkaSettings, topic: str, group: str, mode: str, record: Path) -> list[str]:
    return [sys.executable, "-m", "tests.integration.streaming.batch_crash_app",
            str(kafka.bootstrap_servers), topic, group, mode, str(record)]


async def publish(kafka: KafkaSettings, topic: str, values: range) -> None:
    producer = AIOKafkaProducer(**client_options(kafka))
    await producer.start()
    try:
        for i in values:
            await producer.send_and_wait(topic, str(i).encode(), key=b"k")
    finally:
        await producer.stop()


async def run_skipping_worker(settings: Settings, mode: str, tmp_path: Path) -> list[int]:
    """Values the worker processed, in order, when its consumer jumps from offset 10 to 15."""
    kafka, topic, group = await one_partition_topic(settings, f"offset-skip-{mode}")
    await publish(kafka, topic, range(10))
    record = tmp_path / f"{mode}.jsonl"
    argv = app_argv(kafka, topic, group, mode, record)
    with subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as worker:
        try:
            deadline = time.monotonic() + 60
            while 9 not in processed(record):
                assert time.monotonic() < deadline and worker.poll() is None, "the first ten values in time"
                await asyncio.sleep(0.1)
            await publish(kafka, topic, range(10, MESSAGES))
            worker.wait(60)
        finally:
            worker.kill()
    return processed(record)


def processed(record: Path) -> list[int]:
    if not record.exists():
        return []
    return [v for line in record.read_bytes().splitlines() for v in orjson.loads(line)]


async def test_messages_the_consumer_skips_are_fetched_again_and_processed_in_order(
    settings: Settings, tmp_path: Path
) -> None:
    assert await run_skipping_worker(settings, "skip", tmp_path) == list(range(MESSAGES))


async def test_a_bare_take_loop_loses_the_messages_the_consumer_skips(settings: Settings, tmp_path: Path) -> None:
    """Why batches pass `OffsetOrder`: without it the values Faust jumped over are never seen."""
    values = await run_skipping_worker(settings, "skip-plain", tmp_path)
    assert values == [*range(10), *range(SKIP_TO, MESSAGES)]
