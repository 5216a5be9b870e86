"""Rollouts through the live pipeline: `pdm simulate` → a real stream worker → the real saga process.

Candidates are PCA models fitted on the simulated fleet's feature rows and stored by hash, as
`pdm retrain` stores them; the worker loads them from the model store when a deployment names them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import numpy as np
import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from pdm.contracts import parse_event_time, topics
from pdm.detection import PcaDetector, TrainingContext
from pdm.domain.application import PdmApplication
from pdm.domain.model_versions import Lineage
from pdm.infra.kafka import client_options, ensure_topics
from pdm.infra.model_store import save_artifact
from pdm.scoring import DEFAULT_MODEL, DEFAULT_VERSION, score_history
from pdm.settings import Settings
from pdm.simulation import Simulator
from tests.integration.conftest import ServiceProcess, WorkerProcess, wait_until
from tests.integration.rollout.conftest import BASELINE, SERVING, SagaProcess, saga_finished, until
from tests.integration.rollout.test_crash_safety import kill_at_each_step

pytestmark = pytest.mark.integration
FLEET, SEED = 4, 5
SIM_DURATION, SPEEDUP = timedelta(hours=4), 30
GOOD_BACKTEST = {"alert_rate_per_asset_day": 1.0, "precision": 0.8}
# A sound candidate is trained on the simulated fleet's own first two hours from the live start, so
# it still flags a few of the few dozen shadow windows the baseline does not: the margins tolerate
# that, not a candidate flagging more than half of them.
POLICY = {"shadow_s": 3, "shadow_deadline_s": 90, "canary_s": 3, "canary_deadline_s": 90,
          "validate_deadline_s": 60, "min_scores": 10, "canary_fraction": 0.5, "max_alert_rate_delta": 0.3,
          "min_agreement": 0.65}


class SimulatorProcess(ServiceProcess):
    """`pdm simulate` at 30x: three 10 s windows a second per asset, for longer than any test runs."""

    def __init__(self, settings: Settings, log_path: Path, start: datetime) -> None:
        super().__init__(settings, log_path)
        self.argv = ("-m", "pdm", "simulate", "--assets", str(FLEET), "--seed", str(SEED), "--duration", "4h",
                     "--speedup", str(SPEEDUP), "--batch-size", "10", "--start", start.isoformat())


@pytest.fixture
def sim_start() -> datetime:
    """The live simulation's start, which the candidates are trained from: the simulated signals
    follow the time of day, so a model fitted on another stretch of the day flags half the windows.
    It is `pdm simulate`'s own default, early enough that no reading is stamped ahead of the clock."""
    return (datetime.now(UTC) - SIM_DURATION * (1 - 1 / SPEEDUP)).replace(microsecond=0)


@pytest.fixture
def pipeline(event_store: Settings, worker: Callable[[], WorkerProcess], tmp_path: Path,
             sim_start: datetime) -> Iterator[WorkerProcess]:
    """A worker scoring the simulator's readings on the default model: the baseline serves."""
    asyncio.run(ensure_topics(event_store.kafka, (*topics.ALL_TOPICS, topics.SCORES_SHADOW)))
    process = worker()
    simulator = SimulatorProcess(event_store, tmp_path / "simulate.log", sim_start).start()
    wait_until(lambda: process.health().get("scoring", {}).get("windows_scored", 0) >= 4 * FLEET, 120,
               "the worker scores the simulator's readings")
    yield process
    simulator.stop()


def train_candidate(settings: Settings, domain: PdmApplication, name: str, sim_start: datetime,
                    **params: float) -> tuple[str, str]:
    """Fitted on the simulated fleet's own history, saved by hash and recorded as trained.

    `threshold_quantile` makes a deliberately bad candidate: calibrated at the 5% quantile of its
    own training scores, it flags almost every window of healthy machines.
    """
    sim = Simulator(FLEET, rate_hz=1.0, seed=SEED, start=sim_start)
    piece = sim.slice(0, sim.tick_count(timedelta(hours=2)))
    rows = [r.features.values for a, spec in enumerate(sim.assets)
            for r in score_history(lambda _: DEFAULT_MODEL, spec.asset_id, piece.ts_ms, piece.values[a][:, :4])[0]]
    fs = DEFAULT_MODEL.feature_set
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 2, tzinfo=UTC)
    context = TrainingContext(fs.tag, fs.feature_names, start.isoformat(), end.isoformat())
    detector = PcaDetector(**params).fit(np.nan_to_num(np.vstack(rows)), context)  # type: ignore[arg-type]
    digest = save_artifact(settings.postgres.conninfo(), settings.postgres.schema_name,
                           detector.to_artifact().to_bytes())
    lineage = Lineage(start, end, tuple(s.asset_id for s in sim.assets), end, SEED, "test")
    domain.record_model_trained(digest, "pca", detector.params, start, end, fs.tag, GOOD_BACKTEST, lineage,
                                actor="trainer", correlation_id="test")
    return name, f"sha256:{digest}"


def start(domain: PdmApplication, candidate: tuple[str, str]) -> Any:
    rollout_id = uuid4()
    domain.start_rollout(rollout_id, *candidate, *BASELINE, POLICY, datetime.now(UTC), serving=SERVING,
                         actor="test", correlation_id="test")
    return rollout_id


async def latest_versions(settings: Settings) -> dict[str, str]:
    """Each asset's newest scored window on pdm.scores.v1 and the model version that scored it."""
    consumer = AIOKafkaConsumer(settings.kafka.topic(topics.SCORES), auto_offset_reset="earliest",
                                enable_auto_commit=False, **client_options(settings.kafka))
    await consumer.start()
    newest: dict[str, tuple[datetime, str]] = {}
    try:
        partitions = consumer.assignment() or set()
        while not partitions:
            await asyncio.sleep(0.1)
            partitions = consumer.assignment()
        ends = await consumer.end_offsets(list(partitions))
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    score = orjson.loads(record.value)
                    ts = parse_event_time(score["ts"])
                    if score["asset_id"] not in newest or newest[score["asset_id"]][0] < ts:
                        newest[score["asset_id"]] = (ts, score["model_version"])
    finally:
        await consumer.stop()
    return {asset: version for asset, (_, version) in newest.items()}


async def serving_everywhere(settings: Settings, worker: WorkerProcess, version: str) -> None:
    """The worker holds no rollout key any more and every asset's newest window is `version`'s."""
    def no_rollout_keys() -> bool:
        return not [k for k in worker.health().get("deployments", {}) if k.startswith("rollout/")]

    await until(no_rollout_keys, 20, "the rollout's step deployments removed")
    deadline = asyncio.get_running_loop().time() + 30
    latest: dict[str, str] = {}
    while asyncio.get_running_loop().time() < deadline:
        latest = await latest_versions(settings)
        if len(latest) == FLEET and set(latest.values()) == {version}:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"assets split between versions: {latest}")


async def test_a_trained_candidate_is_shadowed_canaried_and_promoted_to_every_asset(
    pipeline: WorkerProcess, domain: PdmApplication, saga: SagaProcess, event_store: Settings,
    sim_start: datetime,
) -> None:
    candidate = train_candidate(event_store, domain, "pca-live-good", sim_start)
    saga.start()

    rollout_id = start(domain, candidate)
    await until(lambda: saga_finished(event_store, rollout_id), 120, "promotion published")

    rollout = domain.get_rollout(rollout_id)
    assert rollout.state == "promoted", (rollout.reason, rollout.evaluations)
    shadow, canary = rollout.evaluations["shadow"]["metrics"], rollout.evaluations["canary"]["metrics"]
    assert shadow["paired"] >= POLICY["min_scores"] and shadow["agreement"] >= POLICY["min_agreement"]
    assert canary["candidate_scores"] >= POLICY["min_scores"] and len(rollout.canary_assets) == FLEET // 2
    await serving_everywhere(event_store, pipeline, candidate[0])


async def test_a_deliberately_bad_candidate_is_rolled_back_and_its_shadow_withdrawn(
    pipeline: WorkerProcess, domain: PdmApplication, saga: SagaProcess, event_store: Settings,
    sim_start: datetime,
) -> None:
    candidate = train_candidate(event_store, domain, "pca-live-bad", sim_start, threshold_quantile=0.05)
    saga.start()

    rollout_id = start(domain, candidate)
    await until(lambda: saga_finished(event_store, rollout_id), 120, "rollback published")

    rollout = domain.get_rollout(rollout_id)
    events = [type(e).__name__ for e in domain.events.get(rollout_id)]
    assert rollout.state == "rolled_back" and "shadow alert rate" in rollout.reason, rollout.reason
    assert events[-3:] == ["ShadowEvaluated", "RolledBack", "Compensated"]
    assert rollout.evaluations["shadow"]["metrics"]["candidate_alert_rate"] > 0.5
    await serving_everywhere(event_store, pipeline, DEFAULT_VERSION)


@pytest.mark.parametrize(("params", "states", "outcome"), [
    ({}, ["shadowing", "canary", "promoted"], "promoted"),
    ({"threshold_quantile": 0.05}, ["shadowing", "rolled_back"], "rolled_back"),
], ids=["good_candidate", "bad_candidate"])
async def test_a_saga_killed_at_each_step_of_a_live_rollout_ends_promoted_or_fully_rolled_back(
    pipeline: WorkerProcess, domain: PdmApplication, saga: SagaProcess, event_store: Settings,
    params: dict[str, float], states: list[str], outcome: str, sim_start: datetime,
) -> None:
    candidate = train_candidate(event_store, domain, f"pca-live-{outcome}", sim_start, **params)
    rollout_id = start(domain, candidate)

    killed = await kill_at_each_step(domain, saga, rollout_id, states)
    await until(lambda: saga_finished(event_store, rollout_id), 120, "settled after the last restart")

    rollout = domain.get_rollout(rollout_id)
    assert killed == ["started", *states]
    assert rollout.state == outcome and rollout.pending_compensations == []
    await serving_everywhere(event_store, pipeline, candidate[0] if outcome == "promoted" else DEFAULT_VERSION)
