"""Streamed scores equal the batch path over the archive bit for bit, even across a SIGKILL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import numpy as np
import orjson
import pytest

from pdm.contracts import parse_event_time, to_epoch_ms, topics
from pdm.infra.archive_reader import read_history
from pdm.scoring import DEFAULT_MODEL, score_history
from pdm.settings import Settings
from pdm.simulation import Simulator
from tests.integration.conftest import WorkerProcess, archive_count, read_topic, wait_until
from tests.integration.streaming.conftest import expected_windows, publish_history, read_scores

pytestmark = pytest.mark.integration
CHANNELS = DEFAULT_MODEL.feature_set.channels


def by_window(messages: list[dict], field: str) -> dict[tuple[str, int], object]:  # type: ignore[type-arg]
    """Latest message per (asset, window end); a redelivered window must repeat the same value."""
    found: dict[tuple[str, int], object] = {}
    for m in messages:
        key = (m["asset_id"], to_epoch_ms(parse_event_time(m["ts"])))
        assert found.get(key, m[field]) == m[field], f"a repeated window changed: {key}"
        found[key] = m[field]
    return found


def batch_path(settings: Settings, asset_ids: list[str]) -> tuple[dict, dict]:  # type: ignore[type-arg]
    scores, features = {}, {}
    for asset in asset_ids:
        ts, values = read_history(settings.postgres.conninfo(), settings.postgres.schema_name, asset, CHANNELS)
        results, _ = score_history(lambda _: DEFAULT_MODEL, asset, ts, values)
        for r in results:
            for t, raw, row in zip(r.row_ts_ms.tolist(), r.scores.raw.tolist(), r.features.values.tolist(),
                                   strict=True):
                scores[(asset, t)] = raw
                features[(asset, t)] = [None if v != v else v for v in row]
    return scores, features


async def test_streamed_features_and_scores_equal_the_batch_path_over_the_archive(
    migrated: Settings, worker: Callable[[], WorkerProcess]
) -> None:
    sim = Simulator(3, rate_hz=1.0, seed=11, faults="overheat:pump-1@16m+4m")
    duration = timedelta(minutes=20)
    worker()

    sent = await publish_history(migrated, sim, duration, ticks_per_batch=45)
    scores = await read_scores(migrated, expected_windows(sim, duration))
    features = [orjson.loads(v) for v in await read_topic(migrated, topics.FEATURES, len(scores))]
    wait_until(lambda: archive_count(migrated) >= sent, 30, "history archived")
    expected_scores, expected_features = batch_path(migrated, [s.asset_id for s in sim.assets])

    assert by_window(scores, "score") == expected_scores
    assert by_window(features, "values") == expected_features
    assert np.isfinite(list(expected_scores.values())).all()


@pytest.mark.parametrize("store", ["memory", "rocksdb"])
async def test_scores_after_a_sigkill_and_restart_equal_an_uninterrupted_run(
    migrated: Settings, worker: Callable[..., WorkerProcess], store: str
) -> None:
    """`rocksdb` restarts from the killed process's local copy (same data directory) plus the
    changelog's tail, `memory` from the whole changelog: both must resume exactly."""
    sim = Simulator(2, rate_hz=1.0, seed=12)
    first, rest = timedelta(minutes=10), timedelta(minutes=10)
    process = worker(PDM_WORKER__STORE=store)
    await publish_history(migrated, sim, first, ticks_per_batch=30)
    await read_scores(migrated, expected_windows(sim, first))

    process.kill()
    worker(PDM_WORKER__STORE=store)
    await publish_history(migrated, sim, rest, ticks_per_batch=30, first_tick=sim.tick_count(first))
    # The restarted member waits out the killed one's session, rejoins and recovers its table
    # before scoring: a longer bound, not a timing assertion.
    scores = await read_scores(migrated, expected_windows(sim, first + rest), timeout_s=120)

    streamed = by_window(scores, "score")
    whole = sim.slice(0, sim.tick_count(first + rest))
    for a, spec in enumerate(sim.assets):
        results, _ = score_history(lambda _: DEFAULT_MODEL, spec.asset_id, whole.ts_ms, whole.values[a][:, :4])
        expected = {(spec.asset_id, t): s for r in results
                    for t, s in zip(r.row_ts_ms.tolist(), r.scores.raw.tolist(), strict=True)}
        assert {k: v for k, v in streamed.items() if k[0] == spec.asset_id} == expected
