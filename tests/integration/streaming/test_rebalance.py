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
from tests.integration.conftest import WorkerProcess, read_topic
from tests.integration.streaming.conftest import expected_windows, publish_history, read_scores
from tests.integration.streaming.test_determinism import by_window

pytestmark = pytest.mark.integration
PART = timedelta(minutes=4)


async def publish_paced(settings: Settings, sim: Simulator, first_tick: int, ticks: int, pieces: int = 6) -> int:
    """`ticks` ticks from `first_tick` in `pieces` bursts a second apart; returns the next tick."""
    step = ticks // pieces
    for k in range(pieces):
        count = step if k < pieces - 1 else ticks - k * step
        await publish_history(settings, sim, timedelta(seconds=count), ticks_per_batch=20,
                              first_tick=first_tick + k * step)
        await asyncio.sleep(1.0)
    return first_tick + ticks


async def publish_until(settings: Settings, sim: Simulator, first_tick: int, done: Callable[[], bool],
                        piece: int = 20, most: int = 90) -> int:
    """Bursts of `piece` ticks a second apart until `done()`, and two more; returns the next tick.

    A rebalance and the joining member's table recovery take seconds that depend on the
    machine: readings keep coming until the new member has scored some of them."""
    tick, after_done = first_tick, 0
    for _ in range(most):
        await publish_history(settings, sim, timedelta(seconds=piece), ticks_per_batch=20, first_tick=tick)
        tick += piece
        if after_done or done():
            after_done += 1
            if after_done > 2:
                return tick
        await asyncio.sleep(1.0)
    raise AssertionError(f"the new member scored nothing in {most} bursts")


@pytest.mark.parametrize("store", ["memory", "rocksdb"])
async def test_scores_across_a_rebalance_to_two_workers_and_back_equal_an_uninterrupted_run(
    migrated: Settings, worker: Callable[..., WorkerProcess], store: str
) -> None:
    """With `rocksdb` each member keeps its tables in a data directory of its own, as each
    container does in production."""
    sim = Simulator(6, rate_hz=1.0, seed=13)
    worker(PDM_WORKER__STORE=store, PDM_DATA_DIR=str(migrated.data_dir / "first"))
    part = sim.tick_count(PART)
    await publish_history(migrated, sim, PART, ticks_per_batch=20)
    await read_scores(migrated, expected_windows(sim, PART), timeout_s=90)

    second = worker(PDM_WORKER__STORE=store, PDM_DATA_DIR=str(migrated.data_dir / "second"))  # the group rebalances from one member to two while readings keep coming
    tick = await publish_until(
        migrated, sim, part, lambda: second.health().get("scoring", {}).get("windows_scored", 0) > 0)
    await read_scores(migrated, expected_windows(sim, timedelta(seconds=tick)), timeout_s=90)

    second.stop()  # and back to one: the leaving member's partitions move with their state
    tick = await publish_paced(migrated, sim, tick, part)
    scores = await read_scores(migrated, expected_windows(sim, timedelta(seconds=tick)), timeout_s=120)

    features = [orjson.loads(v) for v in await read_topic(migrated, topics.FEATURES, len(scores))]

    # Scores alone would not see a reading lost or repeated inside a window while the detector
    # warms up (they are 0 then); every window's feature vector does.
    streamed, streamed_features = by_window(scores, "score"), by_window(features, "values")
    whole = sim.slice(0, tick)
    for a, spec in enumerate(sim.assets):
        results, _ = score_history(lambda _: DEFAULT_MODEL, spec.asset_id, whole.ts_ms, whole.values[a][:, :4])
        expected = {(spec.asset_id, t): s for r in results
                    for t, s in zip(r.row_ts_ms.tolist(), r.scores.raw.tolist(), strict=True)}
        expected_features = {(spec.asset_id, t): [None if v != v else v for v in row] for r in results
                             for t, row in zip(r.row_ts_ms.tolist(), r.features.values.tolist(), strict=True)}
        assert {k: v for k, v in streamed.items() if k[0] == spec.asset_id} == expected, spec.asset_id
        assert {k: v for k, v in streamed_features.items() if k[0] == spec.asset_id} == expected_features
