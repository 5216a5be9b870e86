"""The real app behind a real uvicorn socket in the test's event loop, and a dedicated broker.

ASGITransport runs no lifespan and buffers whole responses; these tests need the composition
root's own publisher and pools, streamed answers and a broker they may stop and restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI

from pdm.contracts import topics
from pdm.contracts.decoding import decode_message
from pdm.infra.broker import EmbeddedBroker, free_port
from pdm.infra.kafka import client_options
from pdm.settings import Settings


@contextlib.asynccontextmanager
async def serving(app: FastAPI, **options: Any) -> AsyncIterator[str]:
    """Serves `app` (lifespan included) on a free loopback port; yields its base URL. `options`
    are uvicorn's (e.g. `connection_limit(...)`, as `pdm api` passes them)."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_config=None,
                            access_log=False, **options)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 15
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            raise AssertionError(f"the API did not start: {task.exception() if task.done() else 'timeout'}")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def timed(call: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    """An answer and the seconds it took."""
    started = time.monotonic()
    response = await call
    return response, time.monotonic() - started


def with_kafka(settings: Settings, **kafka: Any) -> Settings:
    return settings.model_copy(update={"kafka": settings.kafka.model_copy(update=kafka)})


def readings_body(count: int, asset_id: str = "pump-1", channels: int = 2) -> tuple[bytes, set[str]]:
    """`count` readings of one asset, one second apart and a minute old, with explicit ids."""
    start = datetime.now(UTC) - timedelta(minutes=1, seconds=count)
    ids = [str(uuid.uuid4()) for _ in range(count)]
    items = [{"asset_id": asset_id, "ts": (start + timedelta(seconds=i)).isoformat(), "reading_id": ids[i],
              "values": {f"ch_{c}": 0.5 + i * 1e-3 + c for c in range(channels)}}
             for i in range(count)]
    return orjson.dumps(items), set(ids)


async def ids_on_topic(settings: Settings, wanted: set[str], timeout_s: float = 30) -> set[str]:
    """Reading ids on the readings topic, read from the start until `wanted` are all there (or the
    time is up): what is missing then was acknowledged and lost."""
    consumer = AIOKafkaConsumer(settings.kafka.topic(topics.READINGS), auto_offset_reset="earliest",
                                enable_auto_commit=False, **client_options(settings.kafka))
    await consumer.start()
    seen: set[str] = set()
    try:
        deadline = time.monotonic() + timeout_s
        while not wanted <= seen and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=2000)
            for record in (r for part in batches.values() for r in part if r.value is not None):
                message = decode_message(record.value)
                seen.update(str(i) for i in message.ids())  # type: ignore[union-attr]
    finally:
        await consumer.stop()
    return seen


@contextlib.contextmanager
def dedicated_broker(log_path: Path) -> Iterator[EmbeddedBroker]:
    """A Tansu of the test's own on a fixed port, so it may be stopped, paused and replaced."""
    broker = EmbeddedBroker(port=free_port(), log_path=log_path)
    broker.start()
    try:
        yield broker
    finally:
        if broker.process is not None and broker.process.poll() is None:
            os.kill(broker.process.pid, signal.SIGCONT)  # a paused broker ignores SIGTERM
        broker.stop()
