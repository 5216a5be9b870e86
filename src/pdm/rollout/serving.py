"""What serves the fleet now: key `"*"` of pdm.deployments.v1, read to its end when a rollout starts.

Read on demand rather than followed: a start is rare, and a few messages per rollout make the
compacted topic quick to read whole, so the API and the CLI need no follower of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from pdm.contracts import DeploymentV1, topics
from pdm.domain.rollout_baseline import ServingModel
from pdm.domain.rollout_steps import FLEET_KEY
from pdm.infra.broker import BrokerUnavailableError
from pdm.infra.kafka import client_options
from pdm.scoring import DEFAULT_VERSION
from pdm.scoring.deployments import SHADOW, WITHDRAWN
from pdm.settings import KafkaSettings

READ_TIMEOUT_S = 10.0


async def fleet_serving(kafka: KafkaSettings, timeout_s: float = READ_TIMEOUT_S) -> ServingModel:
    """Raises BrokerUnavailableError when the topic cannot be read to its end in time: a start is
    refused rather than checked against a guess."""
    name = kafka.topic(topics.DEPLOYMENTS)
    try:
        async with asyncio.timeout(timeout_s):
            values = await _values_of(kafka, name, FLEET_KEY.encode())
    except (KafkaError, TimeoutError) as exc:
        raise BrokerUnavailableError(f"{name} could not be read to its end: {exc!r}") from exc
    return serving_from(values)


def serving_from(values: Iterable[bytes | None]) -> ServingModel:
    """The values of `"*"`, oldest first, as the worker's DeploymentBook takes them: a tombstone,
    a withdrawal or a shadow leaves `"*"` empty, a value that is no DeploymentV1 is refused and
    changes nothing. With `"*"` empty, or naming the built-in version, the built-in model serves."""
    current: DeploymentV1 | None = None
    for value in values:
        try:
            current = None if value is None else DeploymentV1.model_validate_json(value)
        except ValidationError:
            continue
        if current is not None and (current.step in WITHDRAWN or current.step == SHADOW):
            current = None
    if current is None or current.model_version == DEFAULT_VERSION:
        return ServingModel(DEFAULT_VERSION)
    return ServingModel(current.model_version, current.artifact_hash)


async def _values_of(kafka: KafkaSettings, name: str, key: bytes) -> list[bytes | None]:
    """Every value of `key`, oldest first (one key lives in one partition), up to the high
    watermark of the fetch. Not up to `end_offsets`: Tansu's ListOffsets can answer short of the
    log's end, its fetch's high watermark does not (docs/reliability.md)."""
    consumer = AIOKafkaConsumer(enable_auto_commit=False, **client_options(kafka))
    try:
        await consumer.start()
        await consumer.topics()  # fresh metadata: a topic created since the client started
        parts = [TopicPartition(name, p) for p in sorted(consumer.partitions_for_topic(name) or ())]
        if not parts:
            return []  # never created: nothing was ever deployed
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        values: list[bytes | None] = []
        while True:
            for records in (await consumer.getmany(*parts, timeout_ms=200)).values():
                values += [r.value for r in records if r.key == key]
            if all([await _at_highwater(consumer, tp) for tp in parts]):
                return values
    finally:
        await consumer.stop()


async def _at_highwater(consumer: AIOKafkaConsumer, tp: TopicPartition) -> bool:
    highwater = consumer.highwater(tp)  # None until a fetch of the partition has answered
    return highwater is not None and await consumer.position(tp) >= highwater
