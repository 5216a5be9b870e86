"""The score_series projection: `pdm.scores.v1` into one-minute buckets per asset, once per offset.

Run-book: runs in `pdm projector` on its own thread and event loop (`start_score_series`). It
assigns itself every partition of the scores topic (no consumer group: nothing to rebalance)
and seeks each to `score_offsets.next_offset`. Each fetched batch is written with the new
offsets in ONE transaction, the offset rows locked: a record below its partition's stored
offset is skipped, so a redelivery (after a crash, or a second projector) changes nothing.
A worker that re-sends a window after its own crash produces a new offset; that window then
counts twice in its bucket's `n` (the mean is unchanged, the values being identical).
A log whose offsets restarted (a broker that lost its storage) is resumed at its start, stored
offsets included (`score_series_offset_reset`), once a position beyond its end shows it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import OffsetOutOfRangeError
from pydantic import ValidationError

from pdm.contracts import ScoreV1, topics
from pdm.infra import kafka as kafka_clients
from pdm.logs import get_logger
from pdm.settings import Settings

log = get_logger(__name__)
APPLICATION_NAME = "pdm-projector-scores"  # its connection in pg_stat_activity, apart from the event fold's
ENSURE_OFFSET = ("INSERT INTO score_offsets (topic, partition, next_offset) VALUES (%s, %s, 0) "
                 "ON CONFLICT DO NOTHING")
LOCK_OFFSETS = ("SELECT partition, next_offset FROM score_offsets WHERE topic = %s AND partition = ANY(%s) "
                "FOR UPDATE")
MOVE_OFFSET = ("UPDATE score_offsets SET next_offset = %s, updated_at = now() "
               "WHERE topic = %s AND partition = %s")
ADD_BUCKET = """
INSERT INTO rm_score_series AS s (asset_id, bucket, n, score_sum, score_min, score_max, threshold, anomalous,
                                  model_version)
VALUES (%s, date_trunc('minute', %s::timestamptz), 1, %s, %s, %s, %s, %s, %s)
ON CONFLICT (asset_id, bucket) DO UPDATE SET
    n = s.n + 1, score_sum = s.score_sum + EXCLUDED.score_sum,
    score_min = least(s.score_min, EXCLUDED.score_min), score_max = greatest(s.score_max, EXCLUDED.score_max),
    threshold = EXCLUDED.threshold, anomalous = s.anomalous + EXCLUDED.anomalous,
    model_version = EXCLUDED.model_version"""
LATEST = """
INSERT INTO rm_asset_latest_score AS l (asset_id, ts, score, threshold, is_anomalous, model_version)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (asset_id) DO UPDATE SET ts = EXCLUDED.ts, score = EXCLUDED.score, threshold = EXCLUDED.threshold,
    is_anomalous = EXCLUDED.is_anomalous, model_version = EXCLUDED.model_version
WHERE l.ts <= EXCLUDED.ts"""


@dataclass
class SeriesStats:
    applied: int = 0
    skipped_redelivered: int = 0
    rejected: int = 0


def decode(records: Sequence[ConsumerRecord]) -> list[ScoreV1]:
    """Scores in offset order; a message that is not a ScoreV1 is skipped (it must not stall)."""
    out = []
    for record in records:
        try:
            out.append(ScoreV1.model_validate_json(record.value or b""))
        except ValidationError:
            log.warning("score_rejected", partition=record.partition, offset=record.offset)
    return out


class ScoreSeriesProjection:
    """Writes fetched records and their partitions' next offsets in one transaction."""

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.conn = conn
        self.stats = SeriesStats()

    async def stored_offsets(self, topic: str, partitions: Sequence[int]) -> dict[int, int]:
        async with self.conn.transaction(), self.conn.cursor() as cur:
            for p in partitions:
                await cur.execute(ENSURE_OFFSET, (topic, p))
            await cur.execute(LOCK_OFFSETS, (topic, list(partitions)))
            return {int(p): int(o) for p, o in await cur.fetchall()}

    async def reset_offset(self, topic: str, partition: int, offset: int) -> None:
        async with self.conn.transaction(), self.conn.cursor() as cur:
            await cur.execute(MOVE_OFFSET, (offset, topic, partition))

    async def apply(self, records: Sequence[ConsumerRecord]) -> int:
        """Idempotent on (topic, partition, offset): returns how many records were new."""
        by_part: dict[tuple[str, int], list[ConsumerRecord]] = {}
        for r in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
            by_part.setdefault((r.topic, r.partition), []).append(r)
        applied = 0
        async with self.conn.transaction(), self.conn.cursor() as cur:
            for (topic, partition), part in by_part.items():
                await cur.execute(ENSURE_OFFSET, (topic, partition))
                await cur.execute(LOCK_OFFSETS, (topic, [partition]))
                row = await cur.fetchone()
                fresh = [r for r in part if r.offset >= (row[1] if row else 0)]
                self.stats.skipped_redelivered += len(part) - len(fresh)
                if fresh:
                    await self._write(cur, decode(fresh))
                    await cur.execute(MOVE_OFFSET, (fresh[-1].offset + 1, topic, partition))
                applied += len(fresh)
        self.stats.applied += applied
        return applied

    @staticmethod
    async def _write(cur: psycopg.AsyncCursor[Any], scores: Sequence[ScoreV1]) -> None:
        buckets = [(s.asset_id, s.ts, s.score, s.score, s.score, s.threshold, int(s.is_anomalous),
                    s.model_version) for s in scores]
        latest: dict[str, ScoreV1] = {}
        for s in scores:
            if s.asset_id not in latest or latest[s.asset_id].ts <= s.ts:
                latest[s.asset_id] = s
        await cur.executemany(ADD_BUCKET, buckets)
        await cur.executemany(LATEST, [(s.asset_id, s.ts, s.score, s.threshold, s.is_anomalous,
                                        s.model_version) for s in latest.values()])


class ScoreSeriesConsumer:
    """The Kafka side: every partition assigned, seeked to the stored offsets, polled until stopped."""

    def __init__(self, settings: Settings, max_records: int = 5000, poll_ms: int = 200) -> None:
        self.settings, self.max_records, self.poll_ms = settings, max_records, poll_ms
        self.topic = settings.kafka.topic(topics.SCORES)
        self.projection: ScoreSeriesProjection | None = None

    async def run(self, stop: threading.Event) -> None:
        await kafka_clients.ensure_topics(self.settings.kafka)
        pg = self.settings.postgres
        # "none": a fetch below the log's start or past its end raises instead of silently moving
        # the position, so _resume_at_log_start can also move the stored offsets that apply() uses.
        consumer = AIOKafkaConsumer(**kafka_clients.client_options(self.settings.kafka), group_id=None,
                                    enable_auto_commit=False, auto_offset_reset="none")
        await consumer.start()
        try:
            async with await psycopg.AsyncConnection.connect(
                    pg.conninfo(), options=f"-c search_path={pg.schema_name}", autocommit=True,
                    application_name=APPLICATION_NAME) as conn:
                self.projection = ScoreSeriesProjection(conn)
                await self._assign(consumer)
                while not stop.is_set():
                    try:
                        batches = await consumer.getmany(timeout_ms=self.poll_ms,
                                                         max_records=self.max_records)
                    except OffsetOutOfRangeError as exc:
                        await self._resume_at_log_start(consumer, list(exc.args[0]))
                        continue
                    records = [r for part in batches.values() for r in part]
                    if records:
                        await self.projection.apply(records)
                    await self._resume_at_log_start(consumer, await self._past_log_end(consumer))
        finally:
            await consumer.stop()

    @staticmethod
    async def _past_log_end(consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        """Partitions whose position is beyond the high watermark of the last fetch: the log was
        replaced under us (a broker that lost its storage, a topic deleted and recreated), so its
        offsets restarted from 0. Kafka answers such a fetch with OffsetOutOfRange; Tansu answers
        it with no records and the new log's high watermark, and the consumer would wait there
        while every score below its old position went unprojected. A new log that outgrows the old
        position before the first fetch after the restart is not detected."""
        past = []
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is not None and await consumer.position(tp) > highwater:
                past.append(tp)
        return past

    async def _resume_at_log_start(self, consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> None:
        """Offsets out of the log's range: resume at its start, and move the stored offsets there
        too, or apply() would skip the new log's records as redeliveries of the old one's."""
        if not tps:
            return
        assert self.projection is not None
        starts = await consumer.beginning_offsets(tps)
        for tp in tps:
            log.warning("score_series_offset_reset", partition=tp.partition, log_start=starts[tp])
            await self.projection.reset_offset(tp.topic, tp.partition, starts[tp])
            consumer.seek(tp, starts[tp])

    async def _assign(self, consumer: AIOKafkaConsumer) -> None:
        await consumer.topics()  # refreshes the cluster metadata that partitions_for_topic reads
        partitions = sorted(consumer.partitions_for_topic(self.topic) or ())
        tps = [TopicPartition(self.topic, p) for p in partitions]
        consumer.assign(tps)
        assert self.projection is not None
        stored = await self.projection.stored_offsets(self.topic, partitions)
        for tp in tps:
            consumer.seek(tp, stored.get(tp.partition, 0))
        log.info("score_series_assigned", topic=self.topic, partitions=len(tps))


def run_forever(settings: Settings, stop: threading.Event, retry_s: float = 2.0) -> None:
    """A lost database or broker restarts the loop after a pause; the stored offsets resume it."""
    while not stop.is_set():
        try:
            asyncio.run(ScoreSeriesConsumer(settings).run(stop))
        except Exception as exc:  # any failure: resume from the stored offsets
            log.warning("score_series_failed", error=str(exc)[:300], retry_in_s=retry_s)
            stop.wait(retry_s)


def start_score_series(settings: Settings, stop: threading.Event) -> threading.Thread | None:
    """None without a configured broker (the projector then serves the event-store read models only)."""
    if settings.kafka.embedded:
        log.warning("score_series_disabled", reason="no kafka.bootstrap_servers")
        return None
    thread = threading.Thread(target=run_forever, args=(settings, stop), name="score-series", daemon=True)
    thread.start()
    return thread
