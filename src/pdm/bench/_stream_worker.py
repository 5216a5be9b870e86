"""Real worker processes for `pdm bench stream`: publish, start N workers in one group, sum their reports."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import orjson
import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from pdm.bench._stream_data import CAPACITY, WINDOW_S, Messages
from pdm.contracts import decode_arrays, topics
from pdm.infra.kafka import client_options, ensure_topics
from pdm.settings import KafkaSettings, Settings

REPORT_TOPIC = "pdm.bench.report"
BROKER_PIDS: dict[str, int] = {}
"""The process of the broker at each bootstrap address, registered by the bench that started it,
so a worker phase can say how much CPU the broker took beside the workers (they share the cores)."""


def phase_settings(bootstrap: str, base_dir: str) -> Settings:
    """Each phase has its own topics (prefix) and data directory, on the one broker of the run."""
    return Settings(
        data_dir=Path(base_dir) / uuid.uuid4().hex[:8],
        kafka=KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=f"b{uuid.uuid4().hex[:8]}."),
    )


async def publish(kafka: KafkaSettings, messages: Messages) -> None:
    producer = AIOKafkaProducer(
        **client_options(kafka), acks=1, linger_ms=5, max_batch_size=1 << 20, max_request_size=8 << 20
    )
    await producer.start()
    try:
        for start in range(0, len(messages), 20_000):
            futures = [await producer.send(kafka.topic(topics.READINGS), v, key=k)
                       for k, v in messages[start : start + 20_000]]
            await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def raw_consume(kafka: KafkaSettings, expected: int) -> Run:
    """Messages/s of a plain aiokafka consumer decoding each message: the transport's own ceiling.
    Its CPU (this process) and the broker's, in cores, from its first fetched message on."""
    consumer = AIOKafkaConsumer(kafka.topic(topics.READINGS), auto_offset_reset="earliest",
                                enable_auto_commit=False, max_partition_fetch_bytes=8 << 20,
                                **client_options(kafka))
    await consumer.start()
    seen, started, meter = 0, None, None
    try:
        while seen < expected:
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            if started is None:
                started = time.perf_counter()
                meter = CpuMeter([os.getpid()], BROKER_PIDS.get(str(kafka.bootstrap_servers)))
            for part in batches.values():
                for record in part:
                    decode_arrays(record.value or b"")
                seen += len(part)
    finally:
        await consumer.stop()
    rate = seen / (time.perf_counter() - (started or time.perf_counter()))
    return Run(rate, 0.0, 0.0, cores=meter.cores() if meter else (0.0, 0.0))


def start_worker(settings: Settings, mode: str, worker_id: str, go: Path,
                 window_s: float = WINDOW_S) -> subprocess.Popen[bytes]:
    env = {
        "PDM_KAFKA__BOOTSTRAP_SERVERS": str(settings.kafka.bootstrap_servers),
        "PDM_KAFKA__TOPIC_PREFIX": settings.kafka.topic_prefix,
        "PDM_LOG_FORMAT": "json", "PDM_LOG_LEVEL": "warning", "PDM_DATA_DIR": str(settings.data_dir),
    }
    argv = [sys.executable, "-m", "streams.bench", mode, worker_id, str(go), str(window_s), str(CAPACITY)]
    log = open(settings.data_dir.parent / f"worker-{mode}-{worker_id}.log", "ab")  # noqa: SIM115
    return subprocess.Popen(argv, env={**os.environ, **env}, stdout=log, stderr=log)


class WorkerStalledError(TimeoutError):
    """A bench worker stopped making progress before every message was processed."""


@dataclass
class Reports:
    """The latest report of each worker, read from the report topic."""

    consumer: AIOKafkaConsumer
    assigned: dict[str, int]
    progress: dict[str, dict]  # type: ignore[type-arg]

    async def until(self, done: object, timeout_s: float, what: str, stall_s: float = 30.0) -> None:
        """Raises WorkerStalledError when no worker reported progress for `stall_s` (seen under load)."""
        deadline, moved, last = time.monotonic() + timeout_s, time.monotonic(), self.total()
        while not done():  # type: ignore[operator]
            now = time.monotonic()
            if self.total() != last:
                moved, last = now, self.total()
            if now > deadline or (self.progress and now - moved > stall_s):
                seen = {w: r["messages"] for w, r in self.progress.items()}
                raise WorkerStalledError(f"{what}: no progress for {now - moved:.0f} s; per worker {seen}")
            for part in (await self.consumer.getmany(timeout_ms=200)).values():
                for record in part:
                    report = orjson.loads(record.value)
                    if report["kind"] == "assigned":
                        self.assigned[report["worker"]] = report["partitions"]
                    else:
                        self.progress[report["worker"]] = report

    def total(self) -> int:
        return sum(r["messages"] for r in self.progress.values())

    def combined(self) -> Run:
        """Messages of all workers over the span from the first worker's first to the last one's last."""
        reports = self.progress.values()
        first, last = min(r["first"] for r in reports), max(r["last"] for r in reports)
        spans = sum(r["last"] - r["first"] for r in reports) or 1.0
        messages = sum(r["messages"] for r in reports)
        return Run(messages / (last - first),
                   sum(r.get("busy_s", 0.0) for r in reports) / spans,
                   sum(r.get("sending_s", 0.0) for r in reports) / spans,
                   messages / (sum(r["batches"] for r in reports) or 1))


@dataclass(frozen=True)
class Run:
    """One worker phase: combined messages/s, and the share of the workers' time the scorer was
    busy with its batches, and of that awaiting the broker's acknowledgement of their outputs
    (both 0 for the counting agent). The rest went to Faust: fetching, the stream, `take`."""

    rate: float
    busy: float
    sending: float
    per_batch: float = 0.0
    """Mean messages in one micro-batch (`take`): under a backlog, the batch size the worker reached."""
    cores: tuple[float, float] = (0.0, 0.0)
    """CPU used by the workers and by the broker over the phase, in cores."""

    def note(self) -> str:
        return (f"scorer busy {self.busy:.0%} of the time, awaiting output acks {self.sending:.0%}, "
                f"{self.per_batch:.0f} messages a batch; {self.cpu()}")

    def cpu(self, who: str = "workers") -> str:
        return f"CPU: {who} {self.cores[0]:.2f}, broker {self.cores[1]:.2f} of {os.cpu_count()} cores"


async def report_reader(kafka: KafkaSettings) -> Reports:
    consumer = AIOKafkaConsumer(kafka.topic(REPORT_TOPIC), auto_offset_reset="earliest",
                                enable_auto_commit=False, **client_options(kafka))
    await consumer.start()
    return Reports(consumer, {}, {})


async def worker_run(bootstrap: str, mode: str, messages: Messages, base_dir: str, workers: int = 1) -> Run:
    """Messages/s of `workers` processes in one group over pre-loaded partitions.

    Every worker holds its first batch until all of them are assigned, so no rebalance
    happens inside the timed span; the rate is the sum over the span of all workers.
    """
    settings = phase_settings(bootstrap, base_dir)
    await ensure_topics(settings.kafka, (*topics.ALL_TOPICS, REPORT_TOPIC))
    await publish(settings.kafka, messages)
    go = settings.data_dir.parent / f"go-{uuid.uuid4().hex[:8]}"
    processes = [start_worker(settings, mode, str(i), go) for i in range(workers)]
    reports = await report_reader(settings.kafka)
    partitions = settings.kafka.partitions
    try:
        await reports.until(lambda: len(reports.assigned) == workers and all(reports.assigned.values())
                            and sum(reports.assigned.values()) == partitions, 90, "assignment")
        meter = CpuMeter([p.pid for p in processes], BROKER_PIDS.get(bootstrap))
        go.touch()
        await reports.until(lambda: reports.total() >= len(messages), 240, "all messages processed")
        cores = meter.cores()
    except WorkerStalledError:
        dump_stacks(processes, settings.data_dir.parent)
        raise
    finally:
        await reports.consumer.stop()
        for process in processes:
            process.kill()
            process.wait()
    return replace(reports.combined(), cores=cores)


class CpuMeter:
    """CPU time of the worker processes and of the broker from now on, in cores (CPU seconds per
    wall second); the machine has `os.cpu_count()` of them."""

    def __init__(self, workers: list[int], broker: int | None) -> None:
        self.workers = [psutil.Process(pid) for pid in workers]
        self.broker = psutil.Process(broker) if broker is not None else None
        self.started, self.before = time.monotonic(), self._seconds()

    def _seconds(self) -> tuple[float, float]:
        def cpu(process: psutil.Process) -> float:
            times = process.cpu_times()
            return times.user + times.system
        return sum(cpu(p) for p in self.workers), cpu(self.broker) if self.broker else 0.0

    def cores(self) -> tuple[float, float]:
        wall = time.monotonic() - self.started or 1.0
        after = self._seconds()
        return (after[0] - self.before[0]) / wall, (after[1] - self.before[1]) / wall


def dump_stacks(processes: list[subprocess.Popen[bytes]], directory: Path) -> None:
    """Where a stalled worker waits, if py-spy is installed beside this Python (a profiling extra)."""
    spy = Path(sys.executable).parent / "py-spy"
    for process in processes if spy.exists() else []:
        with open(directory / f"stall-{process.pid}.txt", "wb") as out:
            subprocess.run([str(spy), "dump", "-p", str(process.pid)], stdout=out, stderr=out, timeout=30,
                           check=False)
