"""Rollout fixtures: migrated schema, the saga as a killable process, a contract-honouring scorer."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from pdm.contracts import DeploymentV1, ScoreV1, topics
from pdm.domain.application import PdmApplication
from pdm.domain.model_versions import Lineage
from pdm.domain.rollout_baseline import ServingModel
from pdm.domain.rollout_steps import FLEET_KEY
from pdm.infra import kafka as kafka_clients
from pdm.rollout.kafka import SAGA_TOPICS, SHADOW_SCORES
from pdm.scoring import DEFAULT_VERSION
from pdm.settings import Settings
from tests.integration.alerting.conftest import domain, event_store
from tests.integration.conftest import ServiceProcess
from tests.integration.streaming.test_shadow_through_worker import publish

BASELINE = (DEFAULT_VERSION, "0" * 64)
"""What serves "*" while no deployment names another: the built-in model, named with any hash."""
SERVING = ServingModel(DEFAULT_VERSION)
ASSETS = tuple(f"pump-{n}" for n in range(6))
FAST = {"shadow_s": 2, "shadow_deadline_s": 30, "canary_s": 2, "canary_deadline_s": 30,
        "validate_deadline_s": 30, "min_scores": 5, "canary_fraction": 0.5}
__all__ = ["domain", "event_store"]
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def record_candidate(domain: PdmApplication, name: str, **metrics: float) -> tuple[str, str]:
    """A trained model version as `pdm retrain` records it; only its metrics matter here."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    lineage = Lineage(T0, T0 + timedelta(days=1), ASSETS, T0 + timedelta(days=1), 0, "test")
    domain.record_model_trained(digest, "pca", {}, T0, T0 + timedelta(days=1), "pdm-default/v1", metrics,
                                lineage, actor="trainer", correlation_id="test")
    return name, digest


async def serve_fleet(settings: Settings, model: tuple[str, str]) -> None:
    """An operator's manual deployment of `model` to "*", as the stream worker would take it."""
    await kafka_clients.ensure_topics(settings.kafka, (topics.DEPLOYMENTS,))
    await publish(settings, FLEET_KEY, DeploymentV1(model_version=model[0], artifact_hash=model[1],
                                                    assets="*", step="manual"))


class SagaProcess(ServiceProcess):
    """`python -m pdm saga`, polling fast so tests see each step quickly."""

    argv = ("-m", "pdm", "saga", "--poll", "0.2")


@pytest.fixture
def saga(event_store: Settings, tmp_path: Path) -> Iterator[SagaProcess]:
    process = SagaProcess(event_store, tmp_path / "saga.log")
    yield process
    process.stop()


class ContractScorer:
    """Scores like the stream worker must under docs/rollout.md's contract, minus the maths.

    Follows pdm.deployments.v1 (named beats "*", later beats earlier, rolled_back or a
    tombstone removes a key); a `shadow` deployment never serves: the candidate scores the same
    windows on pdm.scores.shadow.v1 instead. `rates` sets each version's anomalous fraction.
    """

    def __init__(self, settings: Settings, rates: dict[str, float]) -> None:
        self.settings, self.rates = settings, rates
        self.entries: dict[str, tuple[int, DeploymentV1]] = {}
        self.served: dict[str, list[str]] = {a: [] for a in ASSETS}
        self._order = 0

    def serving(self, asset: str) -> str:
        live = [(d.assets != "*", n, d) for n, d in self.entries.values() if d.step != "shadow" and d.serves(asset)]
        return max(live, key=lambda e: e[:2])[2].model_version if live else BASELINE[0]

    def apply(self, key: str, value: bytes | None) -> None:
        deployment = DeploymentV1.model_validate_json(value) if value else None
        if deployment is None or deployment.step == "rolled_back":
            self.entries.pop(key, None)
        else:
            self._order += 1
            self.entries[key] = (self._order, deployment)

    async def run(self) -> None:
        kafka = self.settings.kafka
        await kafka_clients.ensure_topics(kafka, SAGA_TOPICS)
        consumer = AIOKafkaConsumer(kafka.topic(topics.DEPLOYMENTS), group_id=None,
                                    auto_offset_reset="earliest", **kafka_clients.client_options(kafka))
        producer = kafka_clients.producer(kafka)
        await consumer.start()
        await producer.start()
        try:
            for tick in range(10**9):
                for records in (await consumer.getmany(timeout_ms=50)).values():
                    for r in records:
                        self.apply(r.key.decode(), r.value)
                await asyncio.gather(*[await producer.send(t, v, key=k) for t, k, v in self.scores(tick)])
                await asyncio.sleep(0.1)
        finally:
            await consumer.stop()
            await producer.stop()

    def scores(self, tick: int) -> list[tuple[str, bytes, bytes]]:
        kafka, ts = self.settings.kafka, T0 + timedelta(seconds=10 * tick)
        shadows = [d for _, d in self.entries.values() if d.step == "shadow"]
        out = []
        for asset in ASSETS:
            version = self.serving(asset)
            self.served[asset].append(version)
            out.append((kafka.topic(topics.SCORES), asset.encode(), self._score(asset, ts, version, tick)))
            out += [(kafka.topic(SHADOW_SCORES), asset.encode(), self._score(asset, ts, d.model_version, tick))
                    for d in shadows if d.serves(asset) and d.model_version != version]
        return out

    def _score(self, asset: str, ts: datetime, version: str, tick: int) -> bytes:
        anomalous = (hash((asset, tick)) % 1000) / 1000 < self.rates.get(version, 0.0)
        score = ScoreV1(asset_id=asset, ts=ts, score=0.9 if anomalous else 0.1, threshold=0.5,
                        is_anomalous=anomalous, model_version=version, feature_set_version="pdm-default/v1")
        return score.model_dump_json(by_alias=True).encode()


@pytest.fixture
async def scorer_factory(event_store: Settings) -> AsyncIterator[Any]:
    tasks: list[asyncio.Task[None]] = []

    def start(rates: dict[str, float]) -> ContractScorer:
        scorer = ContractScorer(event_store, rates)
        tasks.append(asyncio.create_task(scorer.run()))
        return scorer

    yield start
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def wait_for(domain: PdmApplication, rollout_id: Any, done: Any, timeout_s: float = 45) -> Any:
    """Polls the aggregate until `done(rollout)`; fails with the state it got stuck in."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    rollout = None
    while asyncio.get_running_loop().time() < deadline:
        rollout = await asyncio.to_thread(domain.get_rollout, rollout_id)
        if done(rollout):
            return rollout
        await asyncio.sleep(0.2)
    raise AssertionError(f"rollout stuck in {rollout.state if rollout else '?'}: {rollout and rollout.reason}")


def saga_finished(settings: Settings, rollout_id: Any) -> bool:
    """The saga's own word that every effect of a final rollout was published."""
    import psycopg

    with psycopg.connect(settings.postgres.conninfo(),
                         options=f"-c search_path={settings.postgres.schema_name}") as conn:
        row = conn.execute("SELECT finished_at FROM rollout_saga_rollouts WHERE rollout_id = %s",
                           (rollout_id,)).fetchone()
    return bool(row and row[0])


async def until(predicate: Any, timeout_s: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        if await asyncio.to_thread(predicate):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout_s}s")
