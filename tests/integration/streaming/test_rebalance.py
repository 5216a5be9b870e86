"""Scores stay equal to an uninterrupted run while the scoring group grows to two workers and shrinks back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import orjson
import pytest

from pdm.contracts import topics
from pdm.scoring import DEFAULT_MODEL, score_history
from pdm.settings import Settings
from pdm.simulation import Simulator
from tests.integration.conftest import WorkerProcess, read_topic, wait_until
from tests.integration.streaming.conftest import expected_windows, publish_history, read_scores
from tests.integration.streaming.test_determinism import by_window

pytestmark = pytest.mark.integration
PART = timedelta(minutes=4)


async def publish_paced(settings: Settings, sim: Simulator, part: int, pieces: int = 6) -> None:
    """Part `part` of the history in `pieces` bursts a second apart, so a rebalance falls inside it."""
    ticks = sim.tick_count(PART)
    step = ticks // pieces
    for k in range(pieces):
        first = part * ticks + k * step
        await publish_history(settings, sim, timedelta(seconds=step if k < pieces - 1 else ticks - k * step),
                              ticks_per_batch=20, first_tick=first)
        await asyncio.sleep(1.0)


async def test_scores_across_a_rebalance_to_two_workers_and_back_equal_an_uninterrupted_run(
    migrated: Settings, worker: Callable[..., WorkerProcess]
) -> None:
    sim = Simulator(6, rate_hz=1.0, seed=13)
    worker()
    await publish_history(migrated, sim, PART, ticks_per_batch=20)
    await read_scores(migrated, expected_windows(sim, PART), timeout_s=90)

    second = worker()  # the group rebalances from one member to two while readings keep coming
    await publish_paced(migrated, sim, part=1)
    await read_scores(migrated, expected_windows(sim, 2 * PART), timeout_s=90)
    wait_until(lambda: second.health().get("scoring", {}).get("windows_scored", 0) > 0, 60,
               "the second worker scored windows of its own")

    second.stop()  # and back to one: the leaving member's partitions move with their state
    await publish_paced(migrated, sim, part=2)
    scores = await read_scores(migrated, expected_windows(sim, 3 * PART), timeout_s=120)

    features = [orjson.loads(v) for v in await read_topic(migrated, topics.FEATURES, len(scores))]

    # Scores alone would not see a reading lost or repeated inside a window while the detector
    # warms up (they are 0 then); every window's feature vector does.
    streamed, streamed_features = by_window(scores, "score"), by_window(features, "values")
    whole = sim.slice(0, sim.tick_count(3 * PART))
    for a, spec in enumerate(sim.assets):
        results, _ = score_history(lambda _: DEFAULT_MODEL, spec.asset_id, whole.ts_ms, whole.values[a][:, :4])
        expected = {(spec.asset_id, t): s for r in results
                    for t, s in zip(r.row_ts_ms.tolist(), r.scores.raw.tolist(), strict=True)}
        expected_features = {(spec.asset_id, t): [None if v != v else v for v in row] for r in results
                             for t, row in zip(r.row_ts_ms.tolist(), r.features.values.tolist(), strict=True)}
        assert {k: v for k, v in streamed.items() if k[0] == spec.asset_id} == expected, spec.asset_id
        assert {k: v for k, v in streamed_features.items() if k[0] == spec.asset_id} == expected_features
