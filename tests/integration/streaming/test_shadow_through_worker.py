"""A shadow deployment published mid-stream: the candidate scores beside the serving model, never instead of it."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

import numpy as np
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from pdm.contracts import DeploymentV1, parse_event_time, to_epoch_ms, topics
from pdm.infra.kafka import client_options, ensure_topics
from pdm.scoring import DEFAULT_VERSION
from pdm.settings import Settings
from pdm.simulation import Simulator
from tests.integration.conftest import WorkerProcess, read_topic, wait_until
from tests.integration.streaming.conftest import expected_windows, publish_history, read_scores, score_key
from tests.integration.streaming.test_model_switch import PCA_VERSION, trained_pca

pytestmark = pytest.mark.integration


async def publish(settings: Settings, key: str, deployment: DeploymentV1 | None) -> None:
    producer = AIOKafkaProducer(**client_options(settings.kafka))
    await producer.start()
    try:
        value = deployment.model_dump_json(by_alias=True).encode() if deployment else None
        await producer.send_and_wait(settings.kafka.topic(topics.DEPLOYMENTS), value, key=key.encode())
    finally:
        await producer.stop()


def by_asset(scores: list[dict]) -> dict[str, dict[int, str]]:  # type: ignore[type-arg]
    """asset → {window ts_ms: model_version}."""
    out: dict[str, dict[int, str]] = defaultdict(dict)
    for s in scores:
        out[s["asset_id"]][to_epoch_ms(parse_event_time(s["ts"]))] = s["model_version"]
    return out


async def test_a_shadow_deployment_scores_the_same_windows_on_the_shadow_topic_and_never_serves(
    migrated: Settings, worker: Callable[[], WorkerProcess]
) -> None:
    await ensure_topics(migrated.kafka, (topics.SCORES_SHADOW,))  # as the saga does before any shadow
    sim = Simulator(3, rate_hz=1.0, seed=21)
    part, tick = timedelta(minutes=4), sim.tick_count(timedelta(minutes=4))
    process = worker()
    digest = trained_pca(migrated)
    key = f"rollout/{uuid.uuid4()}/shadow"
    shadow = DeploymentV1(model_version=PCA_VERSION, artifact_hash=f"sha256:{digest}", assets="*",
                          rollout_id=uuid.UUID(key.split("/")[1]), step="shadow")
    await publish_history(migrated, sim, part, ticks_per_batch=20)

    await publish(migrated, key, shadow)
    await publish_history(migrated, sim, part, ticks_per_batch=20, first_tick=tick)
    wait_until(lambda: process.health().get("deployments", {}).get(key) == PCA_VERSION, 30, "shadow applied")
    await publish(migrated, key, shadow)  # the saga re-sends a step after a restart: a no-op
    await publish_history(migrated, sim, part, ticks_per_batch=20, first_tick=2 * tick)
    scores = await read_scores(migrated, expected_windows(sim, 3 * part))
    shadow_raw = await read_topic(migrated, topics.SCORES_SHADOW, expected_windows(sim, part))

    assert len({score_key(s) for s in scores}) == expected_windows(sim, 3 * part)
    assert_repeats_are_resends(scores)
    live = by_asset(scores)
    for spec in sim.assets:
        windows = sorted(live[spec.asset_id])
        assert set(live[spec.asset_id].values()) == {DEFAULT_VERSION}, "the shadow candidate served"
        assert np.all(np.diff(windows) == 10_000), "a serving window is missing"
    first = {a: min(w) for a, w in by_asset([orjson.loads(v) for v in shadow_raw]).items()}
    # every serving window from the shadow's first one on has its shadow pair: read them all
    expect = sum(sum(1 for t in live[a] if t >= first[a]) for a in first)
    shadow_raw = await read_topic(migrated, topics.SCORES_SHADOW, expect)
    shadows = [orjson.loads(v) for v in shadow_raw]
    paired = by_asset(shadows)
    assert set(paired) == {spec.asset_id for spec in sim.assets}
    for asset, windows in paired.items():
        assert set(windows.values()) == {PCA_VERSION}
        assert sorted(windows) == [t for t in sorted(live[asset]) if t >= first[asset]], "same ts, no gap"
    assert_repeats_are_resends(shadows)
    anomalies = [orjson.loads(v) for v in await read_topic(migrated, topics.ANOMALIES, 10**6, 3)]
    assert not [a for a in anomalies if a["model_version"] == PCA_VERSION], "the candidate raised an anomaly"


def assert_repeats_are_resends(scores: list[dict]) -> None:  # type: ignore[type-arg]
    """Delivery is at least once (a redelivered batch after a rebalance re-sends its scores), so a
    window may appear twice; it must then carry the same score from the same model, never a second
    opinion."""
    first: dict[tuple[str, str], tuple[object, ...]] = {}
    for score in scores:
        content = (score["score"], score["threshold"], score["model_version"], score["is_anomalous"])
        assert first.setdefault(score_key(score), content) == content, f"a window scored differently: {score}"
