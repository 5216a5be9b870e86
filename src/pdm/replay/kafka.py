"""Replay from the Kafka log: the readings topic from given offsets or a time, up to its end now."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from aiokafka import AIOKafkaConsumer, TopicPartition

from pdm.contracts import ContractError, ReadingBatchV1, decode_message, to_epoch_ms, topics
from pdm.infra.kafka import client_options
from pdm.replay.archive import Progress
from pdm.replay.history import DEFAULT_FLAGS, FLAG_BACKFILL, FlagPolicy, History, latest_revisions
from pdm.scoring import MicroBatch
from pdm.settings import KafkaSettings


@dataclass(frozen=True)
class LogPosition:
    """Where to start: explicit offsets per partition, else the first offset at or after `since`."""

    offsets: dict[int, int] = field(default_factory=dict)
    since: datetime | None = None


@dataclass
class _Collected:
    batch: MicroBatch
    revisions: dict[str, list[np.ndarray]] = field(default_factory=dict)
    flags: dict[str, list[np.ndarray]] = field(default_factory=dict)
    undecodable: int = 0


async def _starts(consumer: AIOKafkaConsumer, parts: list[TopicPartition], position: LogPosition
                  ) -> dict[TopicPartition, int]:
    if position.offsets:
        return {tp: position.offsets.get(tp.partition, 0) for tp in parts}
    if position.since is not None:
        found = await consumer.offsets_for_times({tp: to_epoch_ms(position.since) for tp in parts})
        ends = await consumer.end_offsets(parts)
        return {tp: (found[tp].offset if found.get(tp) else ends[tp]) for tp in parts}
    return await consumer.beginning_offsets(parts)


async def read_log(kafka: KafkaSettings, channels: Sequence[str], position: LogPosition,
                   progress: Progress | None = None) -> _Collected:
    """Every message up to the end offsets seen at the start: a fixed, repeatable stretch."""
    consumer = AIOKafkaConsumer(enable_auto_commit=False, **client_options(kafka))
    await consumer.start()
    collected = _Collected(MicroBatch(channels))
    try:
        topic = kafka.topic(topics.READINGS)
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or
                                                            await _partitions(consumer, topic))]
        consumer.assign(parts)
        starts, ends = await _starts(consumer, parts, position), await consumer.end_offsets(parts)
        for tp, offset in starts.items():
            consumer.seek(tp, offset)
        remaining = {tp for tp in parts if starts[tp] < ends[tp]}
        while remaining:
            for tp, records in (await consumer.getmany(*remaining, timeout_ms=1000)).items():
                for record in records:
                    if record.offset < ends[tp]:
                        _add(collected, record.value or b"", progress)
                if records and records[-1].offset >= ends[tp] - 1:
                    remaining.discard(tp)  # counted by what was returned, never by prefetch
    finally:
        await consumer.stop()
    return collected


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()
    return consumer.partitions_for_topic(topic) or set()


def _add(collected: _Collected, raw: bytes, progress: Progress | None) -> None:
    try:
        message = decode_message(raw)
    except ContractError:
        collected.undecodable += 1  # the gate dead-lettered it: it never reached the features
        return
    collected.batch.add(message)
    if isinstance(message, ReadingBatchV1):
        rows = len(message.arrays.ts_ms)
        revision, flag = message.revision, FLAG_BACKFILL if message.backfill else 0
    elif hasattr(message, "values"):
        rows, revision, flag = 1, message.revision, 0
    else:
        return
    collected.revisions.setdefault(message.asset_id, []).append(np.full(rows, revision, np.int64))
    collected.flags.setdefault(message.asset_id, []).append(np.full(rows, flag, np.int16))
    if progress is not None:
        progress(rows)


def kafka_history(kafka: KafkaSettings, channels: Sequence[str], position: LogPosition, start: datetime,
                  end: datetime, assets: Sequence[str] = (), policy: FlagPolicy = DEFAULT_FLAGS,
                  progress: Progress | None = None) -> History:
    """Arrival order per asset becomes event-time order, latest revision per time, as for the archive.

    The log carries no late flag (the gate decides lateness), so only backfill is filtered.
    """
    collected = asyncio.run(read_log(kafka, channels, position, progress))
    history = History(tuple(channels))
    lo, hi = to_epoch_ms(start), to_epoch_ms(end)
    wanted = set(assets)
    for asset_id, ts, values in collected.batch.per_asset():
        if wanted and asset_id not in wanted:
            continue
        revision = np.concatenate(collected.revisions[asset_id])
        flags = np.concatenate(collected.flags[asset_id])
        inside = (ts >= lo) & (ts < hi)
        history.assets.append(latest_revisions(asset_id, ts[inside], revision[inside], flags[inside],
                                               values[inside], policy))
    history.assets.sort(key=lambda a: a.asset_id)
    return history
