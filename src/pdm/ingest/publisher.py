"""ReadingPublisher: readings grouped per asset into batch messages, acknowledged before success."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from pdm.contracts import ReadingBatchV1, ReadingV1, group_into_batches, topics
from pdm.infra import kafka as kafka_clients
from pdm.infra.broker import BrokerUnavailableError
from pdm.settings import KafkaSettings

SEND_TIMEOUT_S = 10.0


class ReadingPublisher:
    """Sends batch messages keyed by asset_id and returns only once the broker acknowledged all.

    Faust's cost is per message, so readings travel as per-asset batches: one message carries
    up to `max_batch` readings of one asset.
    """

    def __init__(self, kafka: KafkaSettings, *, max_batch: int = 1000) -> None:
        self.kafka = kafka
        self.max_batch = max_batch
        self.topic = kafka.topic(topics.READINGS)
        self._producer: AIOKafkaProducer | None = None
        self._starting = asyncio.Lock()

    async def _ready(self) -> AIOKafkaProducer:
        """Connects on first use, and again after a failure, so the API starts without a broker."""
        async with self._starting:
            if self._producer is None:
                producer = kafka_clients.producer(self.kafka)
                try:
                    await asyncio.wait_for(producer.start(), SEND_TIMEOUT_S)
                except (TimeoutError, KafkaError, OSError) as exc:
                    await producer.stop()
                    raise BrokerUnavailableError(f"cannot reach Kafka: {exc!r}") from None
                self._producer = producer
            return self._producer

    async def publish(self, readings: Sequence[ReadingV1], *, backfill: bool = False) -> int:
        batches = group_into_batches(readings, self.max_batch, backfill=backfill)
        await self.publish_batches(batches)
        return len(readings)

    async def publish_batches(self, batches: Sequence[ReadingBatchV1]) -> None:
        payloads = [(b.asset_id.encode(), b.to_json()) for b in batches]
        await self.publish_raw(payloads)

    async def publish_raw(self, payloads: Sequence[tuple[bytes, bytes]]) -> None:
        """(key, value) pairs; all sends are in flight together and awaited together."""
        producer = await self._ready()
        try:
            futures = [await producer.send(self.topic, value, key=key) for key, value in payloads]
            await asyncio.wait_for(asyncio.gather(*futures), SEND_TIMEOUT_S)
        except (TimeoutError, KafkaError) as exc:
            await self._reset()
            raise BrokerUnavailableError(f"Kafka did not acknowledge the batch: {exc!r}") from None

    async def _reset(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def stop(self) -> None:
        await self._reset()
