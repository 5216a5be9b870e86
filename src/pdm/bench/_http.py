"""HTTP ingest phase: the real API in its own process, concurrent clients, and the raw producer."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from pdm.contracts import topics
from pdm.infra import kafka as kafka_clients
from pdm.infra.broker import free_port
from pdm.settings import Settings

Progress = Callable[[int], None]
READY_TIMEOUT_S = 30.0


class BenchError(Exception):
    """A phase could not run or gave a wrong answer; the message says which and why."""


@dataclass(frozen=True)
class LoadResult:
    readings: int
    seconds: float
    latencies: list[float]


def api_env(settings: Settings, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PDM_")}
    env.update({
        "PDM_DATA_DIR": str(settings.data_dir),
        "PDM_KAFKA__BOOTSTRAP_SERVERS": str(settings.kafka.bootstrap_servers),
        "PDM_KAFKA__TOPIC_PREFIX": settings.kafka.topic_prefix,
        "PDM_POSTGRES__URL": settings.postgres.conninfo(),
        "PDM_POSTGRES__SCHEMA_NAME": settings.postgres.schema_name,
        "PDM_API__HOST": "127.0.0.1",
        "PDM_API__PORT": str(port),
        "PDM_LOG_FORMAT": "json",
        "PDM_LOG_LEVEL": "warning",
        # Measures the ingest path, not key handling (~6 us/request, docs/security.md).
        "PDM_API__AUTH": "disabled",
    })
    return env


@contextmanager
def api_process(settings: Settings) -> Iterator[str]:
    """`python -m pdm api` exactly as `pdm up` runs it; yields its base URL once /readyz is 200."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([sys.executable, "-m", "pdm", "api"], env=api_env(settings, port),
                                stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_ready(base_url, proc, log)
            yield base_url
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_ready(base_url: str, proc: subprocess.Popen[bytes], log: object) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)  # type: ignore[attr-defined]
            tail = log.read()[-2000:].decode(errors="replace")  # type: ignore[attr-defined]
            raise BenchError(f"the API exited with code {proc.returncode}: {tail}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise BenchError(f"the API was not ready within {READY_TIMEOUT_S}s")


async def post_all(base_url: str, bodies: Sequence[bytes], per_body: int, clients: int,
                   progress: Progress) -> LoadResult:
    """`clients` connections post the bodies as fast as answers come; every answer must be 202."""
    latencies: list[float] = []
    queue = iter(bodies)
    headers = {"content-type": "application/json"}

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            for body in queue:
                started = time.perf_counter()
                response = await http.post("/v1/readings", content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 202:
                    raise BenchError(f"POST /v1/readings answered {response.status_code}: "
                                     f"{response.text[:300]}")
                progress(per_body)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return LoadResult(len(bodies) * per_body, time.perf_counter() - started, latencies)


async def produce_all(settings: Settings, requests: Sequence[Sequence[tuple[bytes, bytes, int]]],
                      concurrency: int, progress: Progress) -> LoadResult:
    """The baseline: each request's batch messages sent together and their futures gathered,
    `concurrency` requests in flight, with the producer options ReadingPublisher uses."""
    await kafka_clients.ensure_topics(settings.kafka, (topics.READINGS,))
    producer = kafka_clients.producer(settings.kafka)
    topic = settings.kafka.topic(topics.READINGS)
    await producer.start()
    latencies: list[float] = []
    queue = iter(requests)

    async def sender() -> None:
        for messages in queue:
            begun = time.perf_counter()
            futures = [await producer.send(topic, value, key=key) for key, value, _ in messages]
            await asyncio.gather(*futures)
            latencies.append(time.perf_counter() - begun)
            progress(sum(rows for _, _, rows in messages))

    try:
        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    finally:
        await producer.stop()
    return LoadResult(sum(rows for m in requests for _, _, rows in m), seconds, latencies)
