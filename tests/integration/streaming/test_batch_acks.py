"""A micro-batch that fails mid-processing is never committed, so a restart redelivers it."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from pdm.infra.kafka import client_options, ensure_topics
from pdm.settings import Settings

pytestmark = pytest.mark.integration
MESSAGES = 40


async def run_crashing_worker(settings: Settings, mode: str, tmp_path: Path) -> tuple[int, list[int], int]:
    """(exit code, values of the batch that failed, the group's committed offset after the worker exited)."""
    kafka = settings.kafka.model_copy(update={"partitions": 1})
    name = f"batch-acks-{mode}-{uuid.uuid4().hex[:6]}"
    topic, group = kafka.topic(name), kafka.topic(f"{name}-group")
    await ensure_topics(kafka, (name,))
    producer = AIOKafkaProducer(**client_options(kafka))
    await producer.start()
    try:
        for i in range(MESSAGES):
            await producer.send_and_wait(topic, str(i).encode(), key=b"k")
    finally:
        await producer.stop()
    record = tmp_path / f"{mode}.jsonl"
    argv = [sys.executable, "-m", "tests.integration.streaming.batch_crash_app",
            str(kafka.bootstrap_servers), topic, group, mode, str(record)]
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
