"""The producer a plant would run: simulated readings over HTTP, retried until acknowledged.

Only a 202 is a promise. A connection error, a timeout, a 429 or a 5xx is retried with the same
body (reading ids derive from content, so a retry of something that did land costs nothing)
with exponential backoff and jitter. What was acknowledged is kept as (reading_id, revision).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import orjson

from pdm.simulation import Simulator

RETRYABLE = {429, 500, 502, 503, 504}


def checksum(ids: Iterable[str]) -> str:
    """md5 over the sorted "reading_id:revision" strings: the archive's SQL computes the same."""
    return hashlib.md5(",".join(sorted(ids)).encode()).hexdigest()


@dataclass
class LoadResult:
    acknowledged: set[str] = field(default_factory=set)  # "uuid:revision"
    requests: int = 0
    retries: int = 0
    failures: Counter[str] = field(default_factory=Counter)

    @property
    def readings(self) -> int:
        return len(self.acknowledged)

    @property
    def checksum(self) -> str:
        return checksum(self.acknowledged)


def simulator(minutes: int, faults: str, seed: int = 9, assets: int = 4) -> Simulator:
    """Ends a minute ago (every reading passes the gate's future bound), faults after warm-up."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes + 1)
    return Simulator(assets, rate_hz=1.0, seed=seed, faults=faults, start=start)


class HttpProducer:
    """Sends `minutes` of simulated history in requests of `ticks` ticks of every asset."""

    def __init__(self, base_url: str, headers: dict[str, str], sim: Simulator, minutes: int,
                 *, ticks: int = 30, pace_s: float = 0.1) -> None:
        self.base_url, self.headers, self.sim = base_url, headers, sim
        self.total = sim.tick_count(timedelta(minutes=minutes))
        self.ticks, self.pace_s = ticks, pace_s
        self.result = LoadResult()
        self.sent_ticks = 0
        self._progress = asyncio.Condition()

    async def run(self) -> LoadResult:
        async with httpx.AsyncClient(base_url=self.base_url, headers=self.headers, timeout=15) as client:
            for first in range(0, self.total, self.ticks):
                piece = self.sim.slice(first, min(self.ticks, self.total - first))
                readings = [r for a in range(len(self.sim.assets)) for r in piece.batch(a).readings()]
                body = orjson.dumps([r.model_dump(mode="json", by_alias=True) for r in readings])
                await self._deliver(client, body)
                self.result.acknowledged.update(f"{r.reading_id}:{r.revision}" for r in readings)
                async with self._progress:
                    self.sent_ticks = first + len(piece.ts_ms)
                    self._progress.notify_all()
                await asyncio.sleep(self.pace_s)
        return self.result

    async def reached(self, fraction: float) -> None:
        """Returns once `fraction` of the history has been acknowledged."""
        async with self._progress:
            await self._progress.wait_for(lambda: self.sent_ticks >= fraction * self.total)

    async def _deliver(self, client: httpx.AsyncClient, body: bytes) -> None:
        delay = 0.2
        while True:
            self.result.requests += 1
            try:
                response = await client.post("/v1/readings", content=body,
                                             headers={"content-type": "application/json"})
            except httpx.TransportError as exc:
                reason = type(exc).__name__
            else:
                if response.status_code == 202:
                    return
                if response.status_code not in RETRYABLE:
                    raise AssertionError(f"POST /v1/readings: {response.status_code} {response.text[:300]}")
                reason = str(response.status_code)
            self.result.retries += 1
            self.result.failures[reason] += 1
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, 2.0)
