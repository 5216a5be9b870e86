"""Zero downtime (issue 8): the real worker scores every window of every asset exactly once across a
promotion (candidate to "*") and a rollback (baseline to "*"), switching versions without a restart."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from itertools import groupby

import numpy as np
import pytest

from pdm.contracts import DeploymentV1, parse_event_time, to_epoch_ms, topics
from pdm.infra.kafka import ensure_topics
from pdm.scoring import DEFAULT_VERSION
from pdm.settings import Settings
from pdm.simulation import Simulator
from tests.integration.conftest import WorkerProcess, wait_until
from tests.integration.streaming.conftest import expected_windows, publish_history, read_scores
from tests.integration.streaming.test_model_switch import PCA_VERSION, trained_pca
from tests.integration.streaming.test_shadow_through_worker import publish

pytestmark = pytest.mark.integration
BASELINE_HASH = "0" * 64


@pytest.fixture
def streaming(event_store: Settings) -> Settings:
    asyncio.run(ensure_topics(event_store.kafka, (*topics.ALL_TOPICS, topics.SCORES_SHADOW)))
    return event_store


async def test_scores_per_asset_have_no_gap_and_no_double_across_a_promotion_and_a_rollback(
    streaming: Settings, worker: Callable[[], WorkerProcess]
) -> None:
    sim = Simulator(3, rate_hz=1.0, seed=8)
    part, tick = timedelta(minutes=3), sim.tick_count(timedelta(minutes=3))
    process = worker()
    digest = trained_pca(streaming)
    rollout = uuid.uuid4()
    promote = DeploymentV1(model_version=PCA_VERSION, artifact_hash=f"sha256:{digest}", assets="*",
                           rollout_id=rollout, step="promoted")
    roll_back = DeploymentV1(model_version=DEFAULT_VERSION, artifact_hash=BASELINE_HASH, assets="*",
                             step="manual")

    def serving(version: str) -> Callable[[], bool]:
        return lambda: process.health().get("deployments", {}).get("*") == version

    await publish_history(streaming, sim, part, ticks_per_batch=20)
    # The baseline must have served the first part before the promotion: on a slow group join the
    # deployment would otherwise reach the worker first and the baseline would never have served.
    wait_until(lambda: process.health().get("scoring", {}).get("windows_scored", 0)
               >= expected_windows(sim, part), 60, "first part scored by the baseline")
    await publish(streaming, "*", promote)
    await publish_history(streaming, sim, part, ticks_per_batch=20, first_tick=tick)
    wait_until(serving(PCA_VERSION), 30, "promotion applied")
    await publish_history(streaming, sim, part, ticks_per_batch=20, first_tick=2 * tick)
    await publish(streaming, "*", roll_back)
    await publish_history(streaming, sim, part, ticks_per_batch=20, first_tick=3 * tick)
    wait_until(serving(DEFAULT_VERSION), 30, "rollback applied")
    await publish_history(streaming, sim, part, ticks_per_batch=20, first_tick=4 * tick)
    scores = await read_scores(streaming, expected_windows(sim, 5 * part))

    per_window = Counter((s["asset_id"], to_epoch_ms(parse_event_time(s["ts"]))) for s in scores)
    assert max(per_window.values()) == 1, "a window was scored twice"
    for spec in sim.assets:
        ordered = sorted((ts, s["model_version"]) for s in scores if s["asset_id"] == spec.asset_id
                         for ts in [to_epoch_ms(parse_event_time(s["ts"]))])
        assert len(ordered) == 5 * int(part.total_seconds()) // 10 - 1, "every closed window, once"
        assert np.all(np.diff([t for t, _ in ordered]) == 10_000), "a window is missing around a switch"
        runs = [version for version, _ in groupby(v for _, v in ordered)]
        assert runs == [DEFAULT_VERSION, PCA_VERSION, DEFAULT_VERSION], "one switch each way, none flapping"
