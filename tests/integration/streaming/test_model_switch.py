"""A deployment published while readings stream switches the served model live, without a gap."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import numpy as np
import pytest
from aiokafka import AIOKafkaProducer

from pdm.contracts import DeploymentV1, parse_event_time, to_epoch_ms, topics
from pdm.detection import PcaDetector, TrainingContext
from pdm.infra.kafka import client_options
from pdm.infra.model_store import save_artifact
from pdm.scoring import DEFAULT_MODEL, DEFAULT_VERSION, score_history
from pdm.settings import Settings
from pdm.simulation import Simulator
from tests.integration.conftest import WorkerProcess, wait_until
from tests.integration.streaming.conftest import expected_windows, publish_history, read_scores, score_key

pytestmark = pytest.mark.integration
PCA_VERSION = "pca-live-switch-1"


def trained_pca(settings: Settings) -> str:
    """A PCA fitted on another simulated fleet's feature rows, saved by hash like `pdm retrain` does."""
    sim = Simulator(2, rate_hz=1.0, seed=99)
    piece = sim.slice(0, sim.tick_count(timedelta(minutes=20)))
    rows = [r.features.values for a, s in enumerate(sim.assets)
            for r in score_history(lambda _: DEFAULT_MODEL, s.asset_id, piece.ts_ms, piece.values[a][:, :4])[0]]
    fs = DEFAULT_MODEL.feature_set
    context = TrainingContext(fs.tag, fs.feature_names, "2026-01-01T00:00:00Z", "2026-01-01T00:20:00Z")
    detector = PcaDetector().fit(np.nan_to_num(np.vstack(rows)), context)
    return save_artifact(settings.postgres.conninfo(), settings.postgres.schema_name,
                         detector.to_artifact().to_bytes())


async def publish_deployment(settings: Settings, digest: str) -> None:
    deployment = DeploymentV1(model_version=PCA_VERSION, artifact_hash=f"sha256:{digest}", assets="*",
                              step="manual")
    producer = AIOKafkaProducer(**client_options(settings.kafka))
    await producer.start()
    try:
        await producer.send_and_wait(settings.kafka.topic(topics.DEPLOYMENTS),
                                     deployment.model_dump_json(by_alias=True).encode(), key=b"*")
    finally:
        await producer.stop()


async def test_a_deployment_switches_model_version_live_and_every_window_is_scored_once(
    migrated: Settings, worker: Callable[[], WorkerProcess]
) -> None:
    sim = Simulator(3, rate_hz=1.0, seed=21)
    part, tick = timedelta(minutes=4), sim.tick_count(timedelta(minutes=4))
    process = worker()
    digest = trained_pca(migrated)
    await publish_history(migrated, sim, part, ticks_per_batch=20)

    await publish_deployment(migrated, digest)
    await publish_history(migrated, sim, part, ticks_per_batch=20, first_tick=tick)
    wait_until(lambda: process.health().get("deployments", {}).get("*") == PCA_VERSION, 30, "deployment applied")
    await publish_history(migrated, sim, part, ticks_per_batch=20, first_tick=2 * tick)
    scores = await read_scores(migrated, expected_windows(sim, 3 * part))

    assert len(scores) == len({score_key(s) for s in scores}) == expected_windows(sim, 3 * part)
    for spec in sim.assets:
        ordered = sorted((to_epoch_ms(parse_event_time(s["ts"])), s["model_version"])
                         for s in scores if s["asset_id"] == spec.asset_id)
        versions = [v for _, v in ordered]
        switch = versions.index(PCA_VERSION)
        assert set(versions[:switch]) == {DEFAULT_VERSION} and set(versions[switch:]) == {PCA_VERSION}
        assert np.all(np.diff([t for t, _ in ordered]) == 10_000), "a window is missing around the switch"
