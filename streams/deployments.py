"""Deployments follower: every worker reads all of `pdm.deployments.v1` and switches models live.

Run-book: a task inside `pdm worker`, no consumer group (each worker needs every partition of
the compacted topic, not a share of it). Artifacts are loaded by hash from PostgreSQL off the
event loop; until a new model is loaded the previous one keeps scoring, so no reading waits.
A `step="shadow"` deployment never serves: its candidate scores beside the serving model onto
`pdm.scores.shadow.v1` (see `streams/scoring.py`). A re-sent identical value is skipped.
"""

from __future__ import annotations

import asyncio

import faust
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from pydantic import ValidationError

from pdm.contracts import DeploymentV1, topics
from pdm.infra import kafka as kafka_clients
from pdm.infra.database import named
from pdm.infra.model_store import ArtifactNotFoundError, load_artifact
from pdm.logs import get_logger
from pdm.scoring import DEFAULT_MODEL, IncompatibleModelError, ScoringModel, trained_model
from pdm.scoring.deployments import DeploymentBook
from pdm.settings import Settings

log = get_logger(__name__)
APPLICATION_NAME = "pdm-worker-models"  # the short connection that loads a deployed model


class DeploymentFollower:
    """Keeps a DeploymentBook equal to the topic's latest value per key."""

    def __init__(self, settings: Settings, book: DeploymentBook) -> None:
        self.settings, self.book = settings, book
        self._models: dict[str, ScoringModel] = {}

    async def run(self) -> None:
        kafka = self.settings.kafka
        await kafka_clients.ensure_topics(kafka, (*topics.ALL_TOPICS, topics.SCORES_SHADOW))
        consumer = AIOKafkaConsumer(
            kafka.topic(topics.DEPLOYMENTS), group_id=None, auto_offset_reset="earliest",
            enable_auto_commit=False, **kafka_clients.client_options(kafka),
        )
        await consumer.start()
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=500)
                for record in (r for part in batches.values() for r in part):
                    await self.apply(record)
        finally:
            await consumer.stop()

    async def apply(self, record: ConsumerRecord) -> None:
        key = (record.key or b"").decode(errors="replace")
        if record.value is None:
            self.book.apply(key, None, None)
            log.info("deployment_removed", key=key)
            return
        try:
            deployment = DeploymentV1.model_validate_json(record.value)
            if self.book.is_current(key, deployment):
                log.debug("deployment_unchanged", key=key, step=deployment.step)
                return  # a re-sent step (the saga re-publishes after a restart): no reload, no reset
            model = await self._model(deployment)
        except (ValidationError, ArtifactNotFoundError, IncompatibleModelError, ValueError) as exc:
            log.error("deployment_refused", key=key, error=repr(exc)[:300])
            return
        self.book.apply(key, deployment, model)
        served = deployment.assets if deployment.assets == "*" else len(deployment.assets)
        log.info("deployment_applied", key=key, model_version=deployment.model_version,
                 step=deployment.step, assets=served)

    async def _model(self, deployment: DeploymentV1) -> ScoringModel:
        if deployment.model_version == DEFAULT_MODEL.version:
            return DEFAULT_MODEL
        digest = deployment.artifact_hash.removeprefix("sha256:")
        if digest not in self._models:
            pg = self.settings.postgres
            conninfo = named(pg.conninfo(), APPLICATION_NAME)
            body = await asyncio.to_thread(load_artifact, conninfo, pg.schema_name, digest)
            self._models[digest] = trained_model(deployment.model_version, body)
        model = self._models[digest]
        if model.version != deployment.model_version:
            model = trained_model(deployment.model_version, model.trained.to_artifact().to_bytes())  # type: ignore[union-attr]
        return model


def register_deployments(app: faust.App, settings: Settings, book: DeploymentBook) -> DeploymentFollower:
    follower = DeploymentFollower(settings, book)

    @app.task
    async def follow_deployments() -> None:
        """Live model switching: see the module docstring."""
        await follower.run()

    return follower
