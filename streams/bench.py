"""Benchmark workers for `pdm bench stream`: the scoring agent alone, or an agent that only counts.

Run-book (started by the benchmark, not by operators):
    python -m streams.bench score|count EXPECTED_MESSAGES
Both report once, on `<prefix>pdm.bench.report`, the wall-clock time of their first message
and of the moment the expected count was fully processed (outputs acknowledged, state saved).
The reading gate is not started: it is its own consumer group and would share these 2 cores.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import faust
import orjson

from pdm.cli.common import service_settings
from pdm.contracts import topics
from pdm.scoring import ScoringModel
from pdm.scoring.deployments import DeploymentBook
from pdm.settings import Settings
from streams.app import PdmWorker
from streams.fetch_wait import shorten_fetch_wait
from streams.scoring import register_scoring

REPORT_TOPIC = "pdm.bench.report"


def bench_model(window_s: float, capacity: int) -> ScoringModel:
    from dataclasses import replace

    from pdm.features import time_window
    from pdm.scoring import DEFAULT_MODEL

    window = time_window(window_s, capacity=capacity, tumbling=True)
    feature_set = replace(DEFAULT_MODEL.feature_set, name=f"pdm-bench-c{capacity}", window=window)
    return replace(DEFAULT_MODEL, feature_set=feature_set)


def create_bench_app(settings: Settings, mode: str, expected: int, model: ScoringModel) -> faust.App:
    kafka = settings.kafka
    app = faust.App(
        f"{kafka.topic_prefix}pdm-bench-{mode}",
        broker=f"kafka://{kafka.bootstrap_servers}",
        broker_session_timeout=kafka.session_timeout_ms / 1000,
        broker_heartbeat_interval=kafka.heartbeat_interval_ms / 1000,
        processing_guarantee="at_least_once",
        producer_acks=-1,
        topic_partitions=kafka.partitions,
        store="memory://",
        datadir=str((settings.data_dir / f"bench-{mode}").resolve()),
        web_enabled=False,
    )
    readings = app.topic(
        kafka.topic(topics.READINGS),
        key_type=bytes,
        value_type=bytes,
        value_serializer="raw",
        key_serializer="raw",
        partitions=kafka.partitions,
    )
    report = app.topic(kafka.topic(REPORT_TOPIC), value_serializer="raw")
    seen: dict[str, Any] = {"messages": 0, "first": None}
    batch = settings.worker

    async def done(count: int) -> None:
        seen["first"] = seen["first"] or time.time()
        seen["messages"] += count
        if seen["messages"] >= expected and "last" not in seen:
            seen["last"] = time.time()
            await report.send(value=orjson.dumps(seen))

    if mode == "score":
        scorer = register_scoring(app, settings, readings, DeploymentBook(model).model_for, model.feature_set)
        original = scorer.process

        async def process(values: Any) -> None:
            seen["first"] = seen["first"] or time.time()
            await original(values)
            await done(len(values))

        scorer.process = process  # type: ignore[method-assign]
    else:

        @app.agent(readings, name="count_readings", concurrency=1)
        async def count_readings(stream: faust.StreamT[bytes]) -> None:
            async for values in stream.take(batch.batch_size, within=batch.batch_within_s):
                await done(len(values))

    return app


if __name__ == "__main__":
    settings = service_settings("bench-worker")
    if os.environ.get("PDM_BENCH_FETCH_WAIT") != "faust-default":
        shorten_fetch_wait()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    mode, expected = sys.argv[1], int(sys.argv[2])
    window_s, capacity = float(sys.argv[3]), int(sys.argv[4])
    app = create_bench_app(settings, mode, expected, bench_model(window_s, capacity))
    sys.argv = [sys.argv[0], "worker"]
    PdmWorker(
        app, loglevel="warning", override_logging=False, redirect_stdouts=False, console_port=0, quiet=True
    ).execute_from_commandline()
