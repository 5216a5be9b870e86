"""Streaming test helpers: migrated settings, a simulated history on the readings topic, outputs read back."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import orjson
import pytest

from pdm.contracts import topics
from pdm.infra.kafka import ensure_topics
from pdm.infra.migrations import migrate
from pdm.ingest.publisher import ReadingPublisher
from pdm.settings import Settings
from pdm.simulation import Simulator
from tests.integration.conftest import read_topic


@pytest.fixture
def migrated(settings: Settings) -> Settings:
    migrate(settings.postgres.conninfo(), settings.postgres.schema_name)
    asyncio.run(ensure_topics(settings.kafka))
    return settings


async def publish_history(settings: Settings, sim: Simulator, duration: timedelta,
                          ticks_per_batch: int = 60, first_tick: int = 0) -> int:
    """Batch messages of `ticks_per_batch` ticks per asset, in event-time order; returns readings sent."""
    publisher = ReadingPublisher(settings.kafka)
    total = sim.tick_count(duration)
    sent = 0
    try:
        for first in range(first_tick, first_tick + total, ticks_per_batch):
            piece = sim.slice(first, min(ticks_per_batch, first_tick + total - first))
            await publisher.publish_batches([piece.batch(a) for a in range(len(sim.assets))])
            sent += piece.values.shape[0] * piece.values.shape[1]
    finally:
        await publisher.stop()
    return sent


async def read_scores(settings: Settings, expect: int, timeout_s: float = 45) -> list[dict]:  # type: ignore[type-arg]
    """At least `expect` distinct windows (a redelivery may repeat some) or what came in time."""
    scores: list[dict] = []  # type: ignore[type-arg]
    wanted = expect
    for _ in range(3):
        scores = [orjson.loads(v) for v in await read_topic(settings, topics.SCORES, wanted, timeout_s / 3)]
        missing = expect - len({score_key(s) for s in scores})
        if missing <= 0:
            break
        wanted = len(scores) + missing
    return scores


def score_key(score: dict) -> tuple[str, str]:  # type: ignore[type-arg]
    return score["asset_id"], score["ts"]


def expected_windows(sim: Simulator, duration: timedelta, window_s: int = 10) -> int:
    """Tumbling windows closed by a later reading: all but each asset's last open one."""
    return len(sim.assets) * (int(duration.total_seconds()) // window_s - 1)
