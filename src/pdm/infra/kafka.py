"""Kafka clients built from settings (TLS and SASL included) and the topics pdm declares."""

from __future__ import annotations

import contextlib
import ssl
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from pdm.contracts import topics
from pdm.settings import KafkaSettings

# Compacted: the latest deployment per key is the state; older ones may be dropped.
COMPACTED = {topics.DEPLOYMENTS: {"cleanup.policy": "compact"}}


def client_options(kafka: KafkaSettings) -> dict[str, Any]:
    """Connection options every aiokafka client of pdm shares."""
    options: dict[str, Any] = {
        "bootstrap_servers": str(kafka.bootstrap_servers),
        "security_protocol": kafka.security_protocol,
    }
    if kafka.security_protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = ssl.create_default_context(
            cafile=str(kafka.ssl_cafile) if kafka.ssl_cafile else None
        )
    if kafka.security_protocol.startswith("SASL"):
        options["sasl_mechanism"] = kafka.sasl_mechanism
        options["sasl_plain_username"] = kafka.sasl_username
        options["sasl_plain_password"] = (
            kafka.sasl_password.get_secret_value() if kafka.sasl_password else None
        )
    return options


def producer(kafka: KafkaSettings, **overrides: Any) -> AIOKafkaProducer:
    """acks=all: an acknowledged send is durable.

    Idempotence stays off: Tansu answers InitProducerId with UnknownError, which the idempotent
    producer needs as much as the transactional one. A retried send may therefore repeat a
    message; every consumer of pdm's topics is idempotent on the ids the messages carry.
    """
    options: dict[str, Any] = {
        "acks": "all",
        "enable_idempotence": False,
        "linger_ms": 5,
        "max_batch_size": 1024 * 1024,
        "max_request_size": 8 * 1024 * 1024,
        "request_timeout_ms": 10_000,
        "compression_type": None,
    }
    return AIOKafkaProducer(**{**client_options(kafka), **options, **overrides})


def consumer(kafka: KafkaSettings, *names: str, group: str, **overrides: Any) -> AIOKafkaConsumer:
    """Manual commits only: offsets move after the effect is durable, never before."""
    options: dict[str, Any] = {
        "group_id": kafka.topic(group),
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": kafka.session_timeout_ms,
        "heartbeat_interval_ms": kafka.heartbeat_interval_ms,
        "max_partition_fetch_bytes": 8 << 20,
        "fetch_max_bytes": 64 << 20,
        "isolation_level": "read_uncommitted",
    }
    return AIOKafkaConsumer(
        *(kafka.topic(n) for n in names), **{**client_options(kafka), **options, **overrides}
    )


async def ensure_topics(kafka: KafkaSettings, names: tuple[str, ...] = topics.ALL_TOPICS) -> None:
    """Create pdm's topics with the configured partitions; existing topics are left alone."""
    admin = AIOKafkaAdminClient(**client_options(kafka))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [
            NewTopic(
                kafka.topic(name),
                kafka.partitions,
                kafka.replication_factor,
                topic_configs=COMPACTED.get(name, {}),
            )
            for name in names
            if kafka.topic(name) not in existing
        ]
        if new:
            with contextlib.suppress(TopicAlreadyExistsError):  # another service was first
                await admin.create_topics(new)
    finally:
        await admin.close()
