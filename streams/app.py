"""The stream worker's composition root: one Faust app, every topic declared once.

Run-book:
    pdm worker                      # joins group `pdm-worker`, serves /healthz on PDM_WORKER__WEB_PORT
    PDM_KAFKA__BOOTSTRAP_SERVERS=kafka:9092 pdm worker
Scale by running more workers (one per partition at most); keep agent concurrency at 1, since
faust-streaming can commit past a message still in flight when concurrency > 1.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict
from typing import Any

import faust
from faust.types.auth import CredentialsT
from faust.web import Request, Response, View

from pdm.infra.kafka import client_options
from pdm.logs import get_logger
from pdm.observability.metrics import CONTENT_TYPE, StatsCollector, new_registry, render
from pdm.scoring.deployments import DeploymentBook
from pdm.settings import KafkaSettings, Settings
from streams import table_store as table_store_module
from streams.alerting import AnomalyAlerter
from streams.deployments import register_deployments
from streams.fetch_wait import MAX_FETCH_BYTES_PER_PARTITION, shorten_fetch_wait
from streams.gate import ReadingGate
from streams.scoring import register_scoring

log = get_logger(__name__)

READINGS_TOPIC = "pdm.readings.v1"


class WorkerState:
    """What the worker's health page reports: how long the group join took and what is assigned."""

    def __init__(self) -> None:
        self.started_at = time.monotonic()
        self.joined_after_s: float | None = None
        self.assigned: list[str] = []
        self.messages_seen = 0


def broker_credentials(kafka: KafkaSettings) -> CredentialsT | None:
    """The TLS and SASL settings every aiokafka client of pdm uses, in Faust's terms, so the
    scoring agent's consumer and producer connect exactly as the gate and the alerter do."""
    ssl_context = client_options(kafka).get("ssl_context")
    if kafka.security_protocol.startswith("SASL"):
        password = kafka.sasl_password.get_secret_value() if kafka.sasl_password else None
        return faust.SASLCredentials(username=kafka.sasl_username, password=password,
                                     ssl_context=ssl_context, mechanism=kafka.sasl_mechanism)
    return faust.SSLCredentials(ssl_context) if ssl_context is not None else None


def table_store(settings: Settings) -> str:
    """Faust's store URL for the scoring tables: memory, or RocksDB through rocksdict (Faust's
    rocksdb store imports it when python-rocksdb is absent) with pdm's partition rule
    (`streams.table_store`)."""
    store = settings.worker.store
    if store == "auto":
        store = "rocksdb" if settings.environment == "production" else "memory"
    if store == "memory":
        return "memory://"
    table_store_module.register()
    return f"{table_store_module.SCHEME}://"


def create_app(settings: Settings) -> faust.App:
    kafka = settings.kafka
    shorten_fetch_wait()
    app = faust.App(
        f"{kafka.topic_prefix}pdm-worker",
        broker=[f"kafka://{server.strip()}" for server in str(kafka.bootstrap_servers).split(",")],
        broker_credentials=broker_credentials(kafka),
        # Tansu holds JoinGroup replies for half the session timeout: short timeouts join in ~3 s.
        broker_session_timeout=kafka.session_timeout_ms / 1000,
        broker_heartbeat_interval=kafka.heartbeat_interval_ms / 1000,
        # Exactly-once effects come from idempotent sinks: Tansu refuses transactional producers.
        processing_guarantee="at_least_once",
        producer_acks=-1,
        topic_partitions=kafka.partitions,
        consumer_max_fetch_size=MAX_FETCH_BYTES_PER_PARTITION,
        topic_replication_factor=kafka.replication_factor,
        store=table_store(settings),
        datadir=str((settings.data_dir / "worker").resolve()),
        web_bind="127.0.0.1" if settings.environment == "development" else "0.0.0.0",
        web_host="127.0.0.1" if settings.environment == "development" else "0.0.0.0",
        web_port=settings.worker.web_port,
        web_in_thread=False,
    )
    state = WorkerState()
    app.pdm_state = state  # type: ignore[attr-defined]
    readings = app.topic(
        kafka.topic(READINGS_TOPIC), key_type=bytes, value_type=bytes,
        value_serializer="raw", key_serializer="raw", partitions=kafka.partitions,
    )

    book = DeploymentBook()
    scorer = register_scoring(app, settings, readings, book.model_for)
    register_deployments(app, settings, book)

    gate = ReadingGate(settings)
    app.pdm_gate = gate  # type: ignore[attr-defined]

    @app.task
    async def run_reading_gate() -> None:
        """Archive and dead-letter every reading; its own consumer group commits after COPY."""
        await gate.run()

    alerter = AnomalyAlerter(settings)
    app.pdm_alerter = alerter  # type: ignore[attr-defined]

    @app.task
    async def run_anomaly_alerter() -> None:
        """Anomalies into alerts; its own consumer group commits after the event store saved."""
        await alerter.run()

    @app.on_partitions_assigned.connect
    async def _assigned(sender: Any, assigned: set[Any], **_: Any) -> None:
        if state.joined_after_s is None:
            state.joined_after_s = round(time.monotonic() - state.started_at, 3)
            log.info("worker_joined_group", joined_after_s=state.joined_after_s)
        state.assigned = sorted(f"{tp.topic}[{tp.partition}]" for tp in assigned)

    @app.page("/healthz")
    class Health(View):
        async def get(self, request: Request) -> Response:
            return self.json({
                "status": "ok", "joined_after_s": state.joined_after_s,
                "assigned_partitions": len(state.assigned), "messages_seen": scorer.stats.messages,
                "gate": asdict(gate.stats), "scoring": asdict(scorer.stats),
                "offsets": asdict(scorer.order.stats),
                "alerting": asdict(alerter.stats),
                "deployments": book.versions(),
            })

    registry = new_registry()
    for prefix, stats in (("gate", gate.stats), ("scoring", scorer.stats), ("offsets", scorer.order.stats),
                          ("alerting", alerter.stats)):
        registry.register(StatsCollector(f"pdm_worker_{prefix}", lambda s=stats: asdict(s),
                                         f"stream worker {prefix}"))

    @app.page("/metrics")
    class Metrics(View):
        """Prometheus text, read from the counters /healthz shows: nothing extra on the hot path."""

        async def get(self, request: Request) -> Response:
            # aiohttp refuses a charset inside content_type; the exposition format is ASCII.
            return self.bytes(render(registry), content_type=CONTENT_TYPE.split(";")[0] + "; version=0.0.4")

    return app


class PdmWorker(faust.Worker):
    """A worker that exits when it fails to start, so its supervisor can restart it."""

    def stop_and_shutdown(self) -> None:
        started = self._starting_fut
        if started is not None and started.done() and not started.cancelled() and started.exception():
            # mode can hang stopping a half-started app; exiting hands recovery to the supervisor.
            log.error("worker_start_failed", error=repr(started.exception()))
            os._exit(1)
        super().stop_and_shutdown()


def run_worker(settings: Settings) -> None:
    (settings.data_dir / "worker").mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
    worker = PdmWorker(
        app, loglevel=settings.log_level, override_logging=False, redirect_stdouts=False,
        console_port=0, quiet=True,
    )
    worker.execute_from_commandline()
