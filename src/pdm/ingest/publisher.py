"""ReadingPublisher: readings grouped per asset into batch messages, acknowledged before success."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from pdm.contracts import ReadingBatchV1, ReadingV1, group_into_batches, topics
from pdm.contracts.binary import encode_batch
from pdm.infra import kafka as kafka_clients
from pdm.infra.broker import BrokerUnavailableError
from pdm.logs import get_logger
from pdm.settings import KafkaSettings

log = get_logger(__name__)


class ReadingPublisher:
    """Sends batch messages keyed by asset_id and returns only once the broker acknowledged all.

    Faust's cost is per message, so readings travel as per-asset batches: one message carries
    up to `max_batch` readings of one asset.

    Every publish, connecting included, ends within `kafka.publish_timeout_s`: a dead or stalled
    broker turns into `BrokerUnavailableError` (the API's 503), never a request that hangs while
    its body stays in memory. After a failure the producer is dropped and the next publish
    connects afresh, so the publisher recovers by itself once a broker answers again.
    """

    def __init__(self, kafka: KafkaSettings, *, max_batch: int = 1000) -> None:
        self.kafka = kafka
        self.max_batch = max_batch
        self.timeout_s = kafka.publish_timeout_s
        self.topic = kafka.topic(topics.READINGS)
        self._producer: AIOKafkaProducer | None = None
        self._starting = asyncio.Lock()
        self._failed_at = float("-inf")
        self._closing: set[asyncio.Task[None]] = set()

    async def _ready(self, asked_at: float) -> AIOKafkaProducer:
        """Connects on first use, and again after a failure, so the API starts without a broker.

        One connection attempt at a time; callers that queued behind an attempt which failed
        fail with it instead of each trying again in turn, which would multiply the wait.
        """
        async with self._starting:
            if self._producer is None:
                if self._failed_at >= asked_at:
                    raise BrokerUnavailableError("Kafka is unreachable (a connection attempt just failed)")
                producer = kafka_clients.producer(self.kafka, request_timeout_ms=int(self.timeout_s * 1000))
                try:
                    await producer.start()
                except (KafkaError, OSError) as exc:
                    self._failed_at = time.monotonic()
                    self._close_later(producer)
                    raise BrokerUnavailableError(f"cannot reach Kafka: {exc!r}") from None
                except BaseException:  # cancelled by the deadline: not connected either
                    self._failed_at = time.monotonic()
                    self._close_later(producer)
                    raise
                self._producer = producer
            return self._producer

    async def publish(self, readings: Sequence[ReadingV1], *, backfill: bool = False) -> int:
        batches = group_into_batches(readings, self.max_batch, backfill=backfill)
        await self.publish_batches(batches)
        return len(readings)

    async def publish_batches(self, batches: Sequence[ReadingBatchV1]) -> None:
        encode = encode_batch if self.kafka.reading_encoding == "binary" else ReadingBatchV1.to_json
        payloads = [(b.asset_id.encode(), encode(b)) for b in batches]
        await self.publish_raw(payloads)

    async def publish_raw(self, payloads: Sequence[tuple[bytes, bytes]]) -> None:
        """(key, value) pairs; all sends are in flight together and awaited together."""
        asked_at = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout_s):
                producer = await self._ready(asked_at)
                futures = [await producer.send(self.topic, value, key=key) for key, value in payloads]
                await asyncio.gather(*futures)
        except (TimeoutError, KafkaError) as exc:
            self._reset()
            raise BrokerUnavailableError(
                f"Kafka did not acknowledge the batch within {self.timeout_s:g}s: {exc!r}") from None

    def _reset(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            self._failed_at = time.monotonic()
            self._close_later(producer)

    def _close_later(self, producer: AIOKafkaProducer) -> None:
        """aiokafka's stop() flushes what is pending, which takes up to the request timeout when
        the broker is gone: the caller answers now and the old producer closes in the background."""
        task = asyncio.get_running_loop().create_task(self._close(producer))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    @staticmethod
    async def _close(producer: AIOKafkaProducer) -> None:
        try:
            await producer.stop()
        except Exception as exc:  # a producer that never started may fail to stop: nothing to keep
            log.debug("producer_close_failed", error=repr(exc))

    async def stop(self) -> None:
        self._reset()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
