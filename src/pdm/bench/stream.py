"""`pdm bench stream`: readings topic → scores, beside a counting Faust agent, raw aiokafka and pure numpy."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

import orjson
import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from rich.console import Console
from rich.table import Table

from pdm.contracts import decode_message, topics
from pdm.infra.broker import EmbeddedBroker
from pdm.infra.kafka import client_options, ensure_topics
from pdm.scoring import MicroBatch, Outputs, encode, score_micro_batch
from pdm.scoring.model import DEFAULT_MODEL
from pdm.settings import KafkaSettings, Settings
from pdm.simulation import CHANNELS, Simulator

REPORT_TOPIC = "pdm.bench.report"
ASSETS, RATE_HZ, WINDOW_S, CAPACITY = 16, 100.0, 10.0, 1000
console = Console()


@dataclass
class Row:
    what: str
    readings_per_s: float
    baseline: str = ""
    ratio: float | None = None
    note: str = ""


def single_messages(sim: Simulator, ticks: int) -> list[tuple[bytes, bytes]]:
    piece, out = sim.slice(0, ticks), []
    for t, ts in enumerate(piece.ts_ms.tolist()):
        for a, spec in enumerate(sim.assets):
            values = {c: v for c, v in zip(CHANNELS, piece.values[a, t].tolist(), strict=True) if v == v}
            out.append(
                (
                    spec.asset_id.encode(),
                    orjson.dumps({"asset_id": spec.asset_id, "ts": ts, "values": values}),
                )
            )
    return out


def batch_messages(sim: Simulator, ticks: int, rows: int = 500) -> list[tuple[bytes, bytes]]:
    out = []
    for first in range(0, ticks, rows):
        piece = sim.slice(first, rows)
        out += [(s.asset_id.encode(), piece.batch(a).to_json()) for a, s in enumerate(sim.assets)]
    return out


async def publish(kafka: KafkaSettings, messages: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(
        **client_options(kafka), acks=1, linger_ms=5, max_batch_size=1 << 20, max_request_size=8 << 20
    )
    await producer.start()
    try:
        for start in range(0, len(messages), 20_000):
            futures = [
                await producer.send(kafka.topic(topics.READINGS), v, key=k)
                for k, v in messages[start : start + 20_000]
            ]
            await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def raw_consume(kafka: KafkaSettings, expected: int) -> float:
    """Messages/s of a plain aiokafka consumer with orjson decode: the transport's own ceiling."""
    consumer = AIOKafkaConsumer(
        kafka.topic(topics.READINGS),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 << 20,
        **client_options(kafka),
    )
    await consumer.start()
    seen, started = 0, None
    try:
        while seen < expected:
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            started = started or time.perf_counter()
            for part in batches.values():
                for record in part:
                    orjson.loads(record.value)
                seen += len(batches and part)
    finally:
        await consumer.stop()
    return seen / (time.perf_counter() - (started or time.perf_counter()))


def pure_rate(messages: list[tuple[bytes, bytes]], readings: int) -> tuple[float, float]:
    """(features+scores readings/s on decoded arrays, decode+features+scores+encode readings/s)."""
    model = bench_model()
    decoded = [decode_message(v) for _, v in messages]
    for m in decoded:
        getattr(m, "arrays", None)
    started = time.perf_counter()
    batch = MicroBatch(model.feature_set.channels)
    for m in decoded:
        batch.add(m)
    score_micro_batch(lambda _: model, {}, batch)
    core = readings / (time.perf_counter() - started)
    started = time.perf_counter()
    batch = MicroBatch(model.feature_set.channels)
    for _, v in messages:
        batch.add(decode_message(v))
    results, _ = score_micro_batch(lambda _: model, {}, batch)
    out = Outputs()
    for r in results:
        out.extend(encode(r))
    return core, readings / (time.perf_counter() - started)


def bench_model():  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from pdm.features import time_window

    window = time_window(WINDOW_S, capacity=CAPACITY, tumbling=True)
    fs = replace(DEFAULT_MODEL.feature_set, name=f"pdm-bench-c{CAPACITY}", window=window)
    return replace(DEFAULT_MODEL, feature_set=fs)


def start_worker(
    settings: Settings, mode: str, expected: int, window_s: float = WINDOW_S
) -> subprocess.Popen[bytes]:
    env = {
        "PDM_KAFKA__BOOTSTRAP_SERVERS": str(settings.kafka.bootstrap_servers),
        "PDM_KAFKA__TOPIC_PREFIX": settings.kafka.topic_prefix,
        "PDM_LOG_FORMAT": "json",
        "PDM_LOG_LEVEL": "warning",
        "PDM_DATA_DIR": str(settings.data_dir),
    }
    import os

    argv = [sys.executable, "-m", "streams.bench", mode, str(expected), str(window_s), str(CAPACITY)]
    log = open(settings.data_dir.parent / f"worker-{mode}.log", "ab")  # noqa: SIM115
    return subprocess.Popen(argv, env={**os.environ, **env}, stdout=log, stderr=log)


async def wait_report(kafka: KafkaSettings, timeout_s: float) -> dict:  # type: ignore[type-arg]
    consumer = AIOKafkaConsumer(
        kafka.topic(REPORT_TOPIC),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **client_options(kafka),
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for part in (await consumer.getmany(timeout_ms=500)).values():
                return orjson.loads(part[0].value)  # type: ignore[no-any-return]
        raise TimeoutError("bench worker did not report")
    finally:
        await consumer.stop()


async def worker_run(bootstrap: str, mode: str, messages: list[tuple[bytes, bytes]], base_dir: str) -> float:
    """Publish first, then start the worker: the rate is from its first message to its last."""
    settings = phase_settings(bootstrap, base_dir)
    await ensure_topics(settings.kafka, (*topics.ALL_TOPICS, REPORT_TOPIC))
    await publish(settings.kafka, messages)
    process = start_worker(settings, mode, len(messages))
    try:
        report = await wait_report(settings.kafka, 180)
    finally:
        process.kill()
        process.wait()
    return report["messages"] / (report["last"] - report["first"])  # type: ignore[no-any-return]


def phase_settings(bootstrap: str, base_dir: str) -> Settings:
    from pathlib import Path

    return Settings(
        data_dir=Path(base_dir) / uuid.uuid4().hex[:8],
        kafka=KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=f"b{uuid.uuid4().hex[:8]}."),
    )


async def live_latency(
    bootstrap: str, base_dir: str, rate: float, rows: int, seconds: float = 12.0
) -> tuple[float, float, int, float]:
    """p50/p99 ms from a window's end (event time = wall clock) to its score's broker timestamp.

    `rows` readings per message per asset, event times spread over the send interval, so the
    figure includes the producer's own batching interval (rows / per-asset rate).
    """
    settings = phase_settings(bootstrap, base_dir)
    kafka = settings.kafka
    await ensure_topics(kafka, (*topics.ALL_TOPICS, REPORT_TOPIC))
    process = start_worker(settings, "score", 1, window_s=1.0)
    producer = AIOKafkaProducer(**client_options(kafka), acks=1, linger_ms=1)
    await producer.start()
    try:
        await _send_live(producer, kafka, 1, 1, time.time() + 0.2)
        await wait_report(kafka, 60)
        began = time.time()
        sent = await _send_live(producer, kafka, rate, rows, began + seconds)
        latencies = await _score_latencies(kafka, began + 1.0)
    finally:
        await producer.stop()
        process.kill()
        process.wait()
    return (
        statistics.quantiles(latencies, n=100)[49],
        statistics.quantiles(latencies, n=100)[98],
        len(latencies),
        sent / seconds,
    )


async def _send_live(
    producer: AIOKafkaProducer, kafka: KafkaSettings, rate: float, rows: int, until: float
) -> int:
    interval = rows * ASSETS / rate
    sent, topic = 0, kafka.topic(topics.READINGS)
    while (now := time.time()) < until:
        now_ms = int(now * 1000)
        step = max(1, int(interval * 1000 / rows))
        futures = []
        for a in range(ASSETS):
            asset = f"bench-{a}"
            ts = [now_ms - (rows - 1 - i) * step for i in range(rows)]
            body = {
                "schema": "reading_batch.v1",
                "asset_id": asset,
                "ts": ts,
                "channels": {
                    "vibration_rms": [1.0 + (t % 7) / 10 for t in ts],
                    "temperature_c": [60.0] * rows,
                },
            }
            futures.append(await producer.send(topic, orjson.dumps(body), key=asset.encode()))
        await asyncio.gather(*futures)
        sent += rows * ASSETS
        await asyncio.sleep(max(0.0, interval - (time.time() - now)))
    return sent


async def _score_latencies(kafka: KafkaSettings, after: float) -> list[float]:
    consumer = AIOKafkaConsumer(
        kafka.topic(topics.SCORES),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **client_options(kafka),
    )
    await consumer.start()
    latencies: list[float] = []
    try:
        for _ in range(6):
            for part in (await consumer.getmany(timeout_ms=500, max_records=100_000)).values():
                for record in part:
                    end_ms = _epoch_ms(orjson.loads(record.value)["ts"])
                    if end_ms / 1000 > after:
                        latencies.append(float(record.timestamp - end_ms))
    finally:
        await consumer.stop()
    return latencies or [float("nan")] * 2


def _epoch_ms(text: str) -> int:
    from pdm.contracts import parse_event_time, to_epoch_ms

    return to_epoch_ms(parse_event_time(text))


def stream(
    single_ticks: int = typer.Option(2_500, help="ticks of 16 assets sent as single-reading messages"),
    batch_ticks: int = typer.Option(125_000, help="ticks of 16 assets sent as 500-row batch messages"),
) -> None:
    """End-to-end readings/s from pdm.readings.v1 to scores, beside the framework's own floor.

    Starts its own embedded broker. Example: [bold]pdm bench stream --batch-ticks 50000[/]
    """
    asyncio.run(_run(single_ticks, batch_ticks))


async def _run(single_ticks: int, batch_ticks: int) -> None:
    import tempfile

    sim = Simulator(ASSETS, rate_hz=RATE_HZ, seed=7, dropout_rate=0.0)
    singles, batches = single_messages(sim, single_ticks), batch_messages(sim, batch_ticks)
    single_n, batch_n = len(singles), batch_ticks * ASSETS
    broker, base_dir = EmbeddedBroker(), tempfile.mkdtemp(prefix="pdm-bench-stream-")
    bootstrap = broker.start()
    rows: list[Row] = []
    try:
        console.print(f"single: {single_n} messages; batch: {len(batches)} messages = {batch_n} readings")
        floor = await worker_run(bootstrap, "count", singles, base_dir)
        scored = await worker_run(bootstrap, "score", singles, base_dir)
        rows += [
            Row("faust agent that only counts, single", floor),
            Row("scoring agent, single-reading messages", scored, "counting agent", scored / floor),
        ]
        core, full = pure_rate(batches, batch_n)
        raw_settings = phase_settings(bootstrap, base_dir)
        await publish(raw_settings.kafka, batches)
        raw = await raw_consume(raw_settings.kafka, len(batches)) * 500
        count_batch = await worker_run(bootstrap, "count", batches, base_dir) * 500
        scored_batch = await worker_run(bootstrap, "score", batches, base_dir) * 500
        rows += [
            Row("pure numpy features+scores (no Kafka, no decode)", core),
            Row("decode+features+scores+encode (no Kafka)", full),
            Row("raw aiokafka consume + orjson, batch", raw),
            Row("faust agent that only counts, batch", count_batch),
            Row("scoring agent, 500-row batch messages", scored_batch, "pure numpy", scored_batch / core),
        ]
        p50, p99, n, achieved = await live_latency(bootstrap, base_dir, scored / 2, 1)
        rows.append(
            Row(
                f"latency single @ {achieved:,.0f}/s",
                achieved,
                note=f"p50 {p50:.0f} ms p99 {p99:.0f} ms n={n}",
            )
        )
        p50, p99, n, achieved = await live_latency(bootstrap, base_dir, scored_batch / 2, 500)
        rows.append(
            Row(
                f"latency batch @ {achieved:,.0f}/s",
                achieved,
                note=f"p50 {p50:.0f} ms p99 {p99:.0f} ms n={n}",
            )
        )
    finally:
        broker.stop()
    print_table(rows)


def print_table(rows: list[Row]) -> None:
    table = Table(title="pdm bench stream (readings/s, one run, this machine)")
    for column in ("what", "readings/s", "baseline", "ratio", "note"):
        table.add_column(column)
    for r in rows:
        ratio = "" if r.ratio is None else f"{r.ratio:.0%}"
        table.add_row(r.what, f"{r.readings_per_s:,.0f}", r.baseline, ratio, r.note)
    console.print(table)
