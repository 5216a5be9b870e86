"""Benchmark workers for `pdm bench stream`: the scoring agent alone, or an agent that only counts.

Run-book (started by the benchmark, not by operators):
    python -m streams.bench score|count WORKER_ID GO_FILE WINDOW_S CAPACITY
Each reports on `<prefix>pdm.bench.report` its partitions when assigned, then every 250 ms its
processed message count (outputs acknowledged, state saved) with the wall-clock time of its first
message and of its last batch. No batch is processed before GO_FILE exists. The reading gate is
not started: it is its own consumer group and would share these 2 cores.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import faust
import orjson

from pdm.cli.common import service_settings
from pdm.contracts import topics
from pdm.scoring import ScoringModel
from pdm.scoring.deployments import DeploymentBook
from pdm.settings import Settings
from streams.app import PdmWorker
from streams.batching import take_processed
from streams.fetch_wait import MAX_FETCH_BYTES_PER_PARTITION, shorten_fetch_wait
from streams.scoring import ScoringStats, register_scoring

REPORT_TOPIC = "pdm.bench.report"


def bench_model(window_s: float, capacity: int) -> ScoringModel:
    from dataclasses import replace

    from pdm.features import time_window
    from pdm.scoring import DEFAULT_MODEL

    window = time_window(window_s, capacity=capacity, tumbling=True)
    feature_set = replace(DEFAULT_MODEL.feature_set, name=f"pdm-bench-c{capacity}", window=window)
    return replace(DEFAULT_MODEL, feature_set=feature_set)


def create_bench_app(
    settings: Settings, mode: str, worker_id: str, model: ScoringModel, go: Path
) -> faust.App:
    kafka = settings.kafka
    app = faust.App(
        f"{kafka.topic_prefix}pdm-bench-{mode}",
        broker=f"kafka://{kafka.bootstrap_servers}",
        broker_session_timeout=kafka.session_timeout_ms / 1000,
        broker_heartbeat_interval=kafka.heartbeat_interval_ms / 1000,
        processing_guarantee="at_least_once",
        producer_acks=-1,
        topic_partitions=kafka.partitions,
        consumer_max_fetch_size=MAX_FETCH_BYTES_PER_PARTITION,
        store="memory://",
        datadir=str((settings.data_dir / f"bench-{mode}-{worker_id}").resolve()),
        web_enabled=False,
    )
    readings = app.topic(kafka.topic(topics.READINGS), key_type=bytes, value_type=bytes,
                         value_serializer="raw", key_serializer="raw", partitions=kafka.partitions)
    report = app.topic(kafka.topic(REPORT_TOPIC), value_serializer="raw")
    progress = Progress(worker_id)

    @app.on_partitions_assigned.connect
    async def _assigned(sender: Any, assigned: set[Any], **_: Any) -> None:
        count = sum(1 for tp in assigned if tp.topic == kafka.topic(topics.READINGS))
        await report.send(value=orjson.dumps({"worker": worker_id, "kind": "assigned", "partitions": count}))

    @app.timer(0.25)
    async def report_progress() -> None:
        """Progress every 250 ms, never per batch: the bench sums the latest report of each worker."""
        if progress.changed():
            await report.send(value=orjson.dumps(progress.as_report()))

    if mode == "score":
        scorer = register_scoring(app, settings, readings, DeploymentBook(model).model_for, model.feature_set)
        original = scorer.process

        async def process(values: Any) -> None:
            await wait_for(go)
            progress.begin()
            await original(values)
            progress.done(len(values))

        progress.stats = scorer.stats
        scorer.process = process  # type: ignore[method-assign]
    else:

        @app.agent(readings, name="count_readings", concurrency=1)
        async def count_readings(stream: faust.StreamT[bytes]) -> None:
            batch = settings.worker
            async for values in take_processed(stream, batch.batch_size, batch.batch_within_s):
                await wait_for(go)
                progress.begin()
                progress.done(len(values))

    return app


class Progress:
    """Wall-clock time of this worker's first message and of its last fully processed batch."""

    def __init__(self, worker_id: str) -> None:
        self.worker_id, self.messages, self.first, self.last, self._sent = worker_id, 0, 0.0, 0.0, -1
        self.batches = 0
        self.stats: ScoringStats | None = None

    def begin(self) -> None:
        self.first = self.first or time.time()

    def done(self, count: int) -> None:
        self.messages += count
        self.batches += 1
        self.last = time.time()

    def changed(self) -> bool:
        return self.messages != self._sent

    def as_report(self) -> dict[str, Any]:
        self._sent = self.messages
        report = {"worker": self.worker_id, "kind": "progress", "messages": self.messages,
                  "batches": self.batches, "first": self.first, "last": self.last}
        if self.stats is not None:  # the scorer's own timers: where the worker's time went
            report |= {"busy_s": self.stats.busy_s, "sending_s": self.stats.sending_s}
        return report


async def wait_for(go: Path) -> None:
    """Workers hold their first batch until the bench saw every worker assigned: no mid-run rebalance."""
    while not go.exists():
        await asyncio.sleep(0.05)


if __name__ == "__main__":
    settings = service_settings("bench-worker")
    if os.environ.get("PDM_BENCH_FETCH_WAIT") != "faust-default":
        shorten_fetch_wait()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    mode, worker_id, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    window_s, capacity = float(sys.argv[4]), int(sys.argv[5])
    app = create_bench_app(settings, mode, worker_id, bench_model(window_s, capacity), go)
    sys.argv = [sys.argv[0], "worker"]
    PdmWorker(
        app, loglevel="warning", override_logging=False, redirect_stdouts=False, console_port=0, quiet=True
    ).execute_from_commandline()
