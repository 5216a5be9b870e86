"""Replay from the Kafka log: the same features as the simulated history computed in one batch."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from pdm.infra.kafka import ensure_topics
from pdm.ingest.publisher import ReadingPublisher
from pdm.replay.kafka import LogPosition
from pdm.replay.run import replay_features
from pdm.replay.source import ReplaySource
from pdm.scoring import DEFAULT_MODEL
from pdm.settings import Settings
from pdm.simulation import Simulator
from pdm.training.dataset import feature_table
from tests.integration.replay.conftest import START

pytestmark = pytest.mark.integration
FS = DEFAULT_MODEL.feature_set
DURATION = timedelta(minutes=10)


async def publish(settings: Settings, sim: Simulator, ticks: int = 100) -> None:
    """A minute past the replayed range: Tansu 0.6 reports the high watermark one message short
    of a partition's last write, so the newest message stays unread until another follows."""
    await ensure_topics(settings.kafka)
    publisher = ReadingPublisher(settings.kafka)
    total = sim.tick_count(DURATION + timedelta(minutes=1))
    try:
        for first in range(0, total, ticks):
            piece = sim.slice(first, min(ticks, total - first))
            await publisher.publish_batches([piece.batch(a) for a in range(len(sim.assets))])
    finally:
        await publisher.stop()


async def test_features_replayed_from_the_log_equal_the_history_computed_at_once(settings: Settings) -> None:
    sim = Simulator(2, rate_hz=1.0, seed=8, start=START)
    await publish(settings, sim)
    whole = sim.slice(0, sim.tick_count(DURATION))
    expected = feature_table(FS, [(s.asset_id, whole.ts_ms, whole.values[a][:, :4])
                                  for a, s in enumerate(sim.assets)])
    source = ReplaySource(settings, START, START + DURATION, source="kafka", position=LogPosition())

    table, _ = await _in_thread(lambda: replay_features(FS, source.histories(FS.channels)))

    for spec in sim.assets:
        mine, theirs = table.asset_ids == spec.asset_id, expected.asset_ids == spec.asset_id
        assert table.ts_ms[mine].tolist() == expected.ts_ms[theirs].tolist()
        assert np.array_equal(table.values[mine], expected.values[theirs], equal_nan=True)


async def test_offsets_past_the_end_replay_nothing(settings: Settings) -> None:
    sim = Simulator(1, rate_hz=1.0, seed=8, start=START)
    await publish(settings, sim)
    source = ReplaySource(settings, START, START + DURATION, source="kafka",
                          position=LogPosition(offsets={p: 10**9 for p in range(settings.kafka.partitions)}))

    table, _ = await _in_thread(lambda: replay_features(FS, source.histories(FS.channels)))

    assert len(table) == 0


async def _in_thread(work):  # type: ignore[no-untyped-def]
    """kafka_history runs its own event loop (it is called from the synchronous CLI)."""
    import asyncio

    return await asyncio.to_thread(work)

