"""The scoring agent turns a simulated history into one score per window, and one per frame."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from pdm.ingest.publisher import ReadingPublisher
from pdm.scoring import DEFAULT_VERSION
from pdm.scoring.frames import DEFAULT_FRAME_MODEL
from pdm.settings import Settings
from pdm.simulation import Simulator
from tests.integration.conftest import WorkerProcess
from tests.integration.streaming.conftest import expected_windows, publish_history, read_scores, score_key

pytestmark = pytest.mark.integration


async def test_every_closed_window_is_scored_once_with_versions(
    migrated: Settings, worker: Callable[[], WorkerProcess]
) -> None:
    sim = Simulator(3, rate_hz=1.0, seed=5)
    duration = timedelta(minutes=10)
    worker()

    await publish_history(migrated, sim, duration)
    scores = await read_scores(migrated, expected_windows(sim, duration))

    assert len(scores) == expected_windows(sim, duration)
    assert len({score_key(s) for s in scores}) == len(scores)
    assert {s["model_version"] for s in scores} == {DEFAULT_VERSION}
    assert all(s["feature_set_version"].startswith("pdm-default/v1") for s in scores)


async def test_frames_are_scored_once_each_by_the_frame_model_naming_their_channel(
    migrated: Settings, worker: Callable[[], WorkerProcess]
) -> None:
    sim = Simulator(2, rate_hz=1.0, seed=5)
    frames = [sim.frame(s.asset_id, k * 10, samples=1024) for k in range(12) for s in sim.assets]
    worker()

    publisher = ReadingPublisher(migrated.kafka)
    try:
        await publisher.publish_raw([(f.asset_id.encode(), f.to_json()) for f in frames])
    finally:
        await publisher.stop()
    scores = await read_scores(migrated, len(frames))

    assert len(scores) == len({score_key(s) for s in scores}) == len(frames)
    assert {s["model_version"] for s in scores} == {DEFAULT_FRAME_MODEL.version}
    assert all(s["top_channels"] == [["vibration_velocity", 1.0]] for s in scores)
