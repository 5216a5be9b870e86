"""Latency of `pdm bench stream`: a window's end (event time = wall clock) to its score's broker time."""

from __future__ import annotations

import asyncio
import statistics
import time

import numpy as np
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from pdm.bench._stream_data import ASSETS
from pdm.bench._stream_worker import REPORT_TOPIC, phase_settings, report_reader, start_worker
from pdm.contracts import parse_event_time, to_epoch_ms, topics
from pdm.contracts.binary import encode_columns
from pdm.infra.kafka import client_options, ensure_topics
from pdm.settings import KafkaSettings

CHANNELS = ("vibration_rms", "temperature_c")


async def live_latency(
    bootstrap: str, base_dir: str, rate: float, rows: int, seconds: float = 12.0, binary: bool = False,
) -> tuple[float, float, int, float]:
    """(p50 ms, p99 ms, scores, readings/s sent) with 1 s windows at a steady offered rate.

    `rows` readings per message per asset, event times spread over the send interval, so the
    figure includes the producer's own batching interval (rows / per-asset rate).
    """
    settings = phase_settings(bootstrap, base_dir)
    kafka = settings.kafka
    await ensure_topics(kafka, (*topics.ALL_TOPICS, REPORT_TOPIC))
    go = settings.data_dir.parent / "go-latency"
    go.touch()
    process = start_worker(settings, "score", "0", go, window_s=1.0)
    reports = await report_reader(kafka)
    producer = AIOKafkaProducer(**client_options(kafka), acks=1, linger_ms=1)
    await producer.start()
    try:
        await reports.until(lambda: sum(reports.assigned.values()) == kafka.partitions, 90, "assignment")
        await _send_live(producer, kafka, 1, 1, time.time() + 0.2)
        await reports.until(lambda: bool(reports.progress), 60, "first batch")
        began = time.time()
        sent = await _send_live(producer, kafka, rate, rows, began + seconds, binary)
        latencies = await _score_latencies(kafka, began + 1.0)
    finally:
        await reports.consumer.stop()
        await producer.stop()
        process.kill()
        process.wait()
    p = statistics.quantiles(latencies, n=100)
    return p[49], p[98], len(latencies), sent / seconds


async def _send_live(producer: AIOKafkaProducer, kafka: KafkaSettings, rate: float, rows: int,
                     until: float, binary: bool = False) -> int:
    interval = rows * ASSETS / rate
    sent, topic = 0, kafka.topic(topics.READINGS)
    while (now := time.time()) < until:
        now_ms = int(now * 1000)
        step = max(1, int(interval * 1000 / rows))
        futures = []
        for a in range(ASSETS):
            asset = f"bench-{a}"
            ts = [now_ms - (rows - 1 - i) * step for i in range(rows)]
            vibration = [1.0 + (t % 7) / 10 for t in ts]
            if binary:  # straight from arrays: the load generator should not spend the cores it shares
                columns = np.column_stack([vibration, [60.0] * rows])
                raw = encode_columns(asset, np.array(ts), CHANNELS, columns)
            else:
                raw = orjson.dumps({"schema": "reading_batch.v1", "asset_id": asset, "ts": ts,
                                    "channels": dict(zip(CHANNELS, (vibration, [60.0] * rows), strict=True))})
            futures.append(await producer.send(topic, raw, key=asset.encode()))
        await asyncio.gather(*futures)
        sent += rows * ASSETS
        await asyncio.sleep(max(0.0, interval - (time.time() - now)))
    return sent


async def _score_latencies(kafka: KafkaSettings, after: float) -> list[float]:
    consumer = AIOKafkaConsumer(kafka.topic(topics.SCORES), auto_offset_reset="earliest",
                                enable_auto_commit=False, **client_options(kafka))
    await consumer.start()
    latencies: list[float] = []
    try:
        for _ in range(6):
            for part in (await consumer.getmany(timeout_ms=500, max_records=100_000)).values():
                for record in part:
                    end_ms = to_epoch_ms(parse_event_time(orjson.loads(record.value)["ts"]))
                    if end_ms / 1000 > after:
                        latencies.append(float(record.timestamp - end_ms))
    finally:
        await consumer.stop()
    return latencies or [float("nan")] * 2
