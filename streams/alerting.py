"""Anomalies into alerts: every anomaly on `pdm.anomalies.v1` is applied to the event store, once.

Run-book: runs inside `pdm worker` as consumer group `pdm-alerting`. Each batch is applied in a
thread (`PdmApplication.apply_anomaly` blocks on PostgreSQL) and its offsets are committed only
after the event store saved it. A crash before the commit re-reads the batch, and raising is
idempotent on the anomaly id, so a redelivery records nothing new. A message that is not an
AnomalyV1, or that the domain refuses, is logged and skipped: a poison message must not stall
the partition. A failure of the store (connection lost) re-reads the batch after a pause.
An anomaly whose onset is older than `worker.page_horizon_s` (backfilled history, or data that
arrived very late) is applied as historical: its alert is recorded, suppressed, never paged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError
from pydantic import ValidationError

from pdm.contracts import AnomalyV1, topics
from pdm.domain.application import PdmApplication
from pdm.domain.errors import ConcurrentChangeError, DomainError
from pdm.eventstore import open_application
from pdm.infra import kafka as kafka_clients
from pdm.logs import get_logger
from pdm.replay.backfill import is_historical
from pdm.settings import Settings

log = get_logger(__name__)
ALERTING_GROUP = "pdm-alerting"
APPLICATION_NAME = "pdm-worker-alerting"  # its event store's connections in pg_stat_activity
ACTOR = "stream-worker"
RETRY_PAUSE_S = 2.0


@dataclass
class AlerterStats:
    messages: int = 0
    batches: int = 0
    rejected: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)  # plain dict: /healthz serialises it


def correlation_id(anomaly: AnomalyV1, record: ConsumerRecord) -> str:
    """Links the events to the anomaly, the message that carried it and the readings behind it."""
    link = f"anomaly:{anomaly.anomaly_id} via {record.topic}/{record.partition}/{record.offset}"
    if anomaly.sources:
        first = anomaly.sources[0]
        link += f" from {first.topic}/{first.partition}/{first.offset}"
    return link


class AnomalyAlerter:
    """Consumes anomalies and applies them in order; see the module docstring for guarantees."""

    def __init__(self, settings: Settings, *, max_records: int = 200,
                 open_domain: Callable[[], PdmApplication] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.settings = settings
        self.max_records = max_records
        self.open_domain = open_domain or (lambda: open_application(settings.postgres, APPLICATION_NAME))
        self.clock = clock
        self.horizon = timedelta(seconds=settings.worker.page_horizon_s)
        self.stats = AlerterStats()
        self.stopping = asyncio.Event()

    async def run(self) -> None:
        domain = await asyncio.to_thread(self.open_domain)
        consumer = kafka_clients.consumer(self.settings.kafka, topics.ANOMALIES, group=ALERTING_GROUP)
        await kafka_clients.ensure_topics(self.settings.kafka)
        await consumer.start()
        log.info("alerting_started", group=self.settings.kafka.topic(ALERTING_GROUP))
        try:
            while not self.stopping.is_set():
                batches = await consumer.getmany(timeout_ms=200, max_records=self.max_records)
                if batches:
                    await self._process(consumer, domain, batches)
        finally:
            await consumer.stop()
            await asyncio.to_thread(domain.close)

    async def _process(self, consumer: AIOKafkaConsumer, domain: PdmApplication,
                       batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        records = [r for part in batches.values() for r in part]
        try:
            await asyncio.to_thread(self.apply, domain, records)
        except Exception as exc:  # the store failed: nothing is committed, the batch is re-read
            log.warning("alerting_batch_retried", error=repr(exc)[:300], messages=len(records))
            for tp, part in batches.items():
                consumer.seek(tp, part[0].offset)
            await asyncio.sleep(RETRY_PAUSE_S)
            return
        self.stats.messages += len(records)
        self.stats.batches += 1
        await self.commit(consumer, {tp: part[-1].offset + 1 for tp, part in batches.items()})

    async def commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        """Only after the event store saved the batch: a crash before this re-reads it."""
        try:
            await consumer.commit(offsets)
        except CommitFailedError:
            # A rebalance moved the partitions; their new owner re-reads and finds duplicates.
            log.warning("alerting_commit_skipped_after_rebalance", partitions=len(offsets))

    def apply(self, domain: PdmApplication, records: list[ConsumerRecord]) -> None:
        """Blocking (runs in a thread), in offset order per partition."""
        for record in records:
            try:
                anomaly = AnomalyV1.model_validate_json(record.value or b"")
            except ValidationError as exc:
                self._reject(record, f"not an anomaly.v1: {exc.errors()[0]['msg']}")
                continue
            try:
                self._apply_one(domain, anomaly, record)
            except ConcurrentChangeError:
                raise  # lost every retry to other writers: re-read the batch and decide again
            except DomainError as exc:
                self._reject(record, f"{exc.code}: {exc}")

    def _apply_one(self, domain: PdmApplication, anomaly: AnomalyV1, record: ConsumerRecord) -> None:
        a = anomaly
        historical = is_historical(a.onset_ts, self.clock(), self.horizon)
        result = domain.apply_anomaly(
            str(a.anomaly_id), a.asset_id, a.kind, a.score, a.threshold, a.model_version, a.onset_ts,
            actor=ACTOR, correlation_id=correlation_id(a, record), historical=historical,
        )
        outcome = result.outcome.value
        self.stats.outcomes[outcome] = self.stats.outcomes.get(outcome, 0) + 1
        if outcome in ("raised", "escalated"):
            log.info(f"alert_{outcome}", asset_id=a.asset_id, kind=a.kind,
                     alert_id=str(result.alert_id), score=a.score, position=result.position,
                     historical=historical)

    def _reject(self, record: ConsumerRecord, reason: str) -> None:
        self.stats.rejected += 1
        log.warning("anomaly_rejected", topic=record.topic, partition=record.partition,
                    offset=record.offset, reason=reason[:300])
