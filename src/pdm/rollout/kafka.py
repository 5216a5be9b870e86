"""The saga's Kafka side: scores read into records, deployments published once per process."""

from __future__ import annotations

from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from pdm.contracts import DeploymentV1, topics
from pdm.infra import kafka as kafka_clients
from pdm.logs import get_logger
from pdm.rollout.evidence import LIVE, SHADOW, Seen
from pdm.settings import KafkaSettings

log = get_logger(__name__)
SHADOW_SCORES = topics.SCORES_SHADOW
"""Candidate scores of a shadow deployment (score.v1, keyed by asset_id); see docs/rollout.md."""
SAGA_TOPICS = (topics.SCORES, SHADOW_SCORES, topics.DEPLOYMENTS)


class ScoreTally:
    """Every score since `horizon_ms`, kept in memory: read from the start of the topics after a
    restart, so the evidence of a step is the same whether or not the saga was restarted."""

    def __init__(self, kafka: KafkaSettings) -> None:
        self.kafka = kafka
        self.sources = {kafka.topic(topics.SCORES): LIVE, kafka.topic(SHADOW_SCORES): SHADOW}
        self.records: list[Seen] = []
        self.consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        await kafka_clients.ensure_topics(self.kafka, SAGA_TOPICS)
        self.consumer = AIOKafkaConsumer(*self.sources, group_id=None, auto_offset_reset="earliest",
                                         enable_auto_commit=False, **kafka_clients.client_options(self.kafka))
        await self.consumer.start()

    async def poll(self, horizon_ms: int, timeout_ms: int = 100) -> int:
        """Reads what arrived; drops what no active step can need any more (older than the horizon)."""
        assert self.consumer is not None
        read = 0
        while batches := await self.consumer.getmany(timeout_ms=timeout_ms, max_records=5000):
            for tp, records in batches.items():
                source = self.sources[tp.topic]
                self.records += [s for r in records if (s := _seen(source, r)) and r.timestamp >= horizon_ms]
                read += len(records)
            timeout_ms = 0
        self.records = [r for r in self.records if r.arrival_ms >= horizon_ms]
        return read

    async def stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()


def _seen(source: str, record: Any) -> Seen | None:
    """Only the fields the evidence needs; a malformed score is skipped, never fatal."""
    try:
        score = orjson.loads(record.value)
        return Seen(source, str(score["model_version"]), str(score["asset_id"]), str(score["ts"]),
                    int(record.timestamp), bool(score["is_anomalous"]))
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None


class DeploymentPublisher:
    """acks=all sends; a key is re-sent only when its payload changed since this process sent it,
    so a restarted saga re-sends each current instruction exactly once."""

    def __init__(self, kafka: KafkaSettings) -> None:
        self.topic = kafka.topic(topics.DEPLOYMENTS)
        self.producer: AIOKafkaProducer = kafka_clients.producer(kafka, linger_ms=0)
        self.sent: dict[str, bytes | None] = {}

    async def start(self) -> None:
        await self.producer.start()

    async def publish(self, key: str, deployment: DeploymentV1 | None) -> bool:
        value = None if deployment is None else deployment.model_dump_json(by_alias=True).encode()
        if key in self.sent and self.sent[key] == value:
            return False
        await self.producer.send_and_wait(self.topic, value, key=key.encode())
        self.sent[key] = value
        log.info("deployment_published", key=key, step=deployment.step if deployment else "tombstone",
                 model_version=deployment.model_version if deployment else None)
        return True

    async def stop(self) -> None:
        await self.producer.stop()
