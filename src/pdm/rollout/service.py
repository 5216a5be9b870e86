"""`pdm saga`: the rollout saga as a service, in a loop until SIGTERM.

Run-book:
    pdm saga                        # needs PDM_POSTGRES__URL and PDM_KAFKA__BOOTSTRAP_SERVERS
It follows the event store for rollouts, reads pdm.scores.v1 / pdm.scores.shadow.v1 for
evidence, publishes DeploymentV1 messages on pdm.deployments.v1, and keeps step deadlines
in `rollout_deadlines`. Safe to SIGKILL at any moment: it resumes from the rollout events.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

import psycopg
from aiokafka.errors import KafkaError

from pdm.infra.database import DatabaseUnavailableError
from pdm.logs import get_logger
from pdm.rollout.saga import Saga
from pdm.settings import Settings

log = get_logger(__name__)
MAX_BACKOFF_S = 30.0


async def run(settings: Settings, poll_s: float = 0.5) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    saga = Saga(settings)
    await saga.start()
    log.info("saga_started", poll_s=poll_s)
    backoff = 1.0
    try:
        while not stop.is_set():
            try:
                await saga.tick()
                backoff, wait = 1.0, poll_s
            except (psycopg.OperationalError, DatabaseUnavailableError, KafkaError) as exc:
                log.warning("saga_tick_failed", error=str(exc)[:300], retry_in_s=backoff)
                backoff, wait = min(backoff * 2, MAX_BACKOFF_S), backoff
                lost_database = not isinstance(exc, KafkaError)
            else:
                lost_database = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
            if lost_database:  # the old connection never comes back by itself
                with contextlib.suppress(DatabaseUnavailableError):
                    await asyncio.to_thread(saga.reconnect)
    finally:
        await saga.close()
        log.info("saga_stopped")
