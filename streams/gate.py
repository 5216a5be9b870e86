"""The reading gate: every message on the readings topic is archived or dead-lettered, exactly once.

Run-book: runs inside `pdm worker` as consumer group `pdm-archive`. A message that fails the
contract goes to `pdm.readings.dlq.v1` with its original bytes, reason and source offset; valid
readings go to the PostgreSQL archive. Offsets are committed only after both are durable, and
the archive ignores rows it already has, so a crash at any point loses and doubles nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from pdm.contracts import (
    ContractError,
    DeadLetterV1,
    EventTimePolicy,
    FrameV1,
    ReadingBatchV1,
    ReadingV1,
    SourceOffsetV1,
    check_event_time,
    decode_message,
    group_into_batches,
    topics,
)
from pdm.infra import kafka as kafka_clients
from pdm.infra.archive import (
    FLAG_BACKFILL,
    FLAG_LATE,
    ArchiveRows,
    ArchiveWriter,
    ReadingBlock,
    utc_from_ms,
)
from pdm.infra.database import DatabaseUnavailableError, named
from pdm.ingest.lateness import LatenessTracker
from pdm.logs import get_logger
from pdm.runtime.supervisor import Backoff
from pdm.settings import Settings

log = get_logger(__name__)
ARCHIVE_GROUP = "pdm-archive"
APPLICATION_NAME = "pdm-worker-gate"  # its archive connection in pg_stat_activity


@dataclass
class GateStats:
    messages: int = 0
    readings_archived: int = 0
    frames_archived: int = 0
    dead_lettered: int = 0
    redeliveries_merged: int = 0


class ReadingGate:
    """Consumes, validates, dead-letters and archives in batches; see the module docstring."""

    def __init__(self, settings: Settings, *, policy: EventTimePolicy | None = None) -> None:
        self.settings = settings
        self.max_records = settings.worker.gate_max_records
        self.policy = policy or EventTimePolicy()
        self.dlq_topic = settings.kafka.topic(topics.READINGS_DLQ)
        self.source_topic = settings.kafka.topic(topics.READINGS)
        self.writer = ArchiveWriter(named(settings.postgres.conninfo(), APPLICATION_NAME),
                                    settings.postgres.schema_name)
        self.lateness = LatenessTracker(settings.worker.allowed_lateness_ms)
        self.stats = GateStats()
        self.stopping = asyncio.Event()

    async def run(self) -> None:
        consumer = kafka_clients.consumer(self.settings.kafka, topics.READINGS, group=ARCHIVE_GROUP)
        producer = kafka_clients.producer(self.settings.kafka)
        await kafka_clients.ensure_topics(self.settings.kafka)
        await producer.start()
        await consumer.start()
        log.info("gate_started", group=self.settings.kafka.topic(ARCHIVE_GROUP))
        try:
            while not self.stopping.is_set():
                batches = await consumer.getmany(timeout_ms=200, max_records=self.max_records)
                if batches:
                    await self._process_until_durable(consumer, producer, batches)
        finally:
            await consumer.stop()
            await producer.stop()
            await asyncio.to_thread(self.writer.close)

    async def _process_until_durable(self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer,
                                     batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        """A database outage stalls the gate instead of crashing the worker (a crash costs every
        agent a rebalance): the same batch is retried until PostgreSQL answers, which is safe
        because the archive ignores rows it already has and nothing was committed."""
        backoff = Backoff(initial_s=0.2, maximum_s=5.0)
        while True:
            try:
                await self._process(consumer, producer, batches)
                return
            except (psycopg.OperationalError, psycopg.InterfaceError, DatabaseUnavailableError) as exc:
                if self.stopping.is_set():
                    raise
                delay = backoff.next_delay(uptime_s=0)
                log.warning("gate_database_unavailable", error=str(exc)[:200], retry_in_s=round(delay, 2))
                await asyncio.to_thread(self.writer.close)
                await asyncio.sleep(delay)

    async def _process(self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer,
                       batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        records = [r for part in batches.values() for r in part]
        rows, dead = await asyncio.to_thread(self.sort, records, datetime.now(UTC))
        await self._dead_letter(producer, dead)
        if len(rows):
            result = await asyncio.to_thread(self.writer.write, rows)
            self.stats.readings_archived += result.readings_written
            self.stats.frames_archived += result.frames_written
            self.stats.redeliveries_merged += int(result.deduplicated)
        self.stats.messages += len(records)
        await self._commit(consumer, {tp: part[-1].offset + 1 for tp, part in batches.items()})

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        """Only after the archive and the DLQ hold the batch: a crash before this re-reads it."""
        try:
            await consumer.commit(offsets)
        except CommitFailedError:
            # A rebalance moved these partitions; their new owner re-reads them and the
            # archive's primary key turns the repeat into a no-op.
            log.warning("gate_commit_skipped_after_rebalance", partitions=len(offsets))

    async def _dead_letter(self, producer: AIOKafkaProducer,
                           dead: Sequence[tuple[bytes | None, DeadLetterV1]]) -> None:
        if not dead:
            return
        futures = [
            await producer.send(self.dlq_topic, d.model_dump_json(by_alias=True).encode(), key=key)
            for key, d in dead
        ]
        await asyncio.gather(*futures)
        self.stats.dead_lettered += len(dead)
        log.info("readings_dead_lettered", count=len(dead), first_reason=dead[0][1].reason[:200])

    def sort(self, records: Sequence[ConsumerRecord], now: datetime
             ) -> tuple[ArchiveRows, list[tuple[bytes | None, DeadLetterV1]]]:
        """Blocking (runs in a thread): decode every record into archive rows or dead letters,
        each dead letter with the original record's key."""
        rows: ArchiveRows = ArchiveRows()
        dead: list[tuple[bytes | None, DeadLetterV1]] = []
        messages = []
        for record in records:
            try:
                message = decode_message(record.value or b"")
                self._check_time(message, now)
                messages.append((record, message))
            except ContractError as exc:
                letter = DeadLetterV1.from_error(record.value or b"", exc, self._source(record), now)
                dead.append((record.key, letter))
        self._seed_lateness(messages)
        for record, message in messages:
            self._add(rows, record, message)
        return rows, dead

    def _check_time(self, message: Any, now: datetime) -> None:
        if isinstance(message, FrameV1):
            stamps, backfill = [message.ts_start], False
        elif isinstance(message, ReadingBatchV1):
            stamps, backfill = [min(message.ts), max(message.ts)], message.backfill
        else:
            stamps, backfill = [message.ts], False
        for ts in stamps:
            reason = check_event_time(ts, now, self.policy, backfill=backfill)
            if reason is not None:
                raise ContractError.single("ts", reason)

    def _seed_lateness(self, messages: list[tuple[ConsumerRecord, Any]]) -> None:
        unknown = {m.asset_id for _, m in messages if not self.lateness.knows(m.asset_id)}
        if unknown:
            self.lateness.seed(self.writer.latest_event_times(sorted(unknown)))

    def _add(self, rows: ArchiveRows, record: ConsumerRecord, message: Any) -> None:
        if isinstance(message, FrameV1):
            rows.frames.append((message.asset_id, message.channel, message.ts_start,
                                message.sample_rate_hz, message.samples, message.frame_id, 0,
                                record.partition, record.offset))
            rows.add_months(message.ts_start, message.ts_start)
            return
        batch = group_into_batches([message])[0] if isinstance(message, ReadingV1) else message
        arrays = batch.arrays
        late = self.lateness.late_mask(batch.asset_id, arrays.ts_ms)
        base_flag = FLAG_BACKFILL if batch.backfill else 0
        rows.blocks.append(ReadingBlock(
            batch.asset_id, arrays.ts_ms, batch.id_bytes(), batch.revision, arrays.channels,
            arrays.values, base_flag | (late * FLAG_LATE), record.partition, record.offset))
        rows.add_months(utc_from_ms(int(arrays.ts_ms.min())), utc_from_ms(int(arrays.ts_ms.max())))

    def _source(self, record: ConsumerRecord) -> SourceOffsetV1:
        return SourceOffsetV1(topic=record.topic, partition=record.partition, offset=record.offset)


__all__ = ["ARCHIVE_GROUP", "GateStats", "KafkaError", "ReadingGate"]
