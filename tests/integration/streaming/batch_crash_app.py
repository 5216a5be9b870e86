"""A Faust worker whose agent fails on its second micro-batch; used by test_batch_acks.py.

    python -m tests.integration.streaming.batch_crash_app BOOTSTRAP TOPIC GROUP MODE RECORD_FILE

MODE `processed` batches with `streams.batching.process_batches` (the scoring agent's loop);
MODE `plain` is a bare `async for batch in stream.take(...)`, which stops itself with SIGTERM
a few seconds after the failure. Each batch's values are appended to RECORD_FILE as one JSON
line before it is processed.

MODE `skip` and `skip-plain` do not fail: once value 9 is processed the app seeks its partition
to offset 15, as Faust's consumer jumps ahead around a rebalance, and it stops itself after value
39. `skip` batches with `process_batches`, `skip-plain` with a bare `stream.take`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import faust
import orjson
from faust.types import TP

from streams.app import PdmWorker
from streams.batching import process_batches

SKIP_TO = 15


def create_app(bootstrap: str, topic: str, group: str, mode: str, record: Path) -> faust.App:
    app = faust.App(group, broker=f"kafka://{bootstrap}", broker_session_timeout=6,
                    broker_heartbeat_interval=1, processing_guarantee="at_least_once",
                    topic_partitions=1, store="memory://", web_enabled=False, broker_commit_every=1,
                    datadir=str(record.parent / f"faust-{group}"))
    source = app.topic(topic, key_type=bytes, value_type=bytes, value_serializer="raw",
                       key_serializer="raw", partitions=1)
    batches = 0

    async def process(values: list[Any]) -> None:
        nonlocal batches
        batches += 1
        numbers = [int(v) for v in values]
        if mode.startswith("skip"):
            if 9 in numbers:
                await app.consumer.seek(TP(source.get_topic_name(), 0), SKIP_TO)
            if 39 in numbers:
                asyncio.get_running_loop().call_later(1, os.kill, os.getpid(), signal.SIGTERM)
        with record.open("ab") as out:
            out.write(orjson.dumps(numbers) + b"\n")
        if mode.startswith("skip"):
            return
        if batches == 2:
            if mode == "plain":
                asyncio.get_running_loop().call_later(3, os.kill, os.getpid(), signal.SIGTERM)
            raise RuntimeError("the second batch fails")

    @app.agent(source, name="batches", concurrency=1)
    async def handle(stream: faust.StreamT[bytes]) -> None:
        if mode in ("processed", "skip"):
            await process_batches(app, stream, 10, 0.5, process)
        else:
            async for values in stream.take(10, within=0.5):
                await process(values)

    return app


if __name__ == "__main__":
    bootstrap, topic, group, mode, record = sys.argv[1:6]
    app = create_app(bootstrap, topic, group, mode, Path(record))
    sys.argv = [sys.argv[0], "worker"]
    PdmWorker(app, loglevel="warning", override_logging=False, redirect_stdouts=False, console_port=0,
              quiet=True).execute_from_commandline()
