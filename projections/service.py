"""The projector process: projections caught up, no-data scanned, due timers fired, in a loop."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from pdm.domain.application import PdmApplication
from pdm.domain.rules import DEFAULT_POLICY, AlertPolicy
from pdm.eventstore import open_application
from pdm.infra.database import DatabaseUnavailableError, connect
from pdm.logs import get_logger
from pdm.settings import Settings
from projections.corrections import CorrectionWatch
from projections.firing import TimerRunner
from projections.no_data import NoDataWatch
from projections.parking import ParkingRunner
from projections.registry import read_models
from projections.score_series import start_score_series
from projections.timers import AlertTimersProjection

log = get_logger(__name__)
Clock = Callable[[], datetime]
MAX_BACKOFF_S = 30.0
APPLICATION_NAME = "pdm-projector"  # its connections, apart from the API's pools in pg_stat_activity


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Tick:
    projected: int
    fresh_assets: int
    fired: int


class Projector:
    """One tick does everything once, so tests drive it with their own clock and no threads."""

    def __init__(self, settings: Settings, *, clock: Clock = utc_now, policy: AlertPolicy = DEFAULT_POLICY,
                 no_data_every_s: float = 15.0, app: PdmApplication | None = None) -> None:
        self.settings, self.clock, self.policy = settings, clock, policy
        self.no_data_every_s = no_data_every_s
        self.app = app or open_application(settings.postgres, APPLICATION_NAME)
        self.owns_app = app is None
        self.timers = AlertTimersProjection(self.app, policy)
        self._last_scan = float("-inf")
        self._open()

    def _open(self) -> None:
        pg = self.settings.postgres
        self.conn: psycopg.Connection[Any] = connect(pg.conninfo(), pg.schema_name, autocommit=True,
                                                     application_name=APPLICATION_NAME)
        self.runner = ParkingRunner(self.app, self.conn, [self.timers, *read_models()])
        self.firing = TimerRunner(self.app, self.conn)
        self.no_data = NoDataWatch(self.conn, self.policy)
        self.corrections = CorrectionWatch(self.settings, self.conn, self.app)

    def tick(self) -> Tick:
        """Projections first, so timers reflect the newest decisions before any fires."""
        projected = self.runner.catch_up()
        fresh = 0
        if time.monotonic() - self._last_scan >= self.no_data_every_s:
            fresh = self.no_data.scan(self.clock())
            self.corrections.scan(self.clock())
            self._last_scan = time.monotonic()
        fired = self.firing.fire_due(self.clock())
        return Tick(projected, fresh, fired)

    def run(self, stop: threading.Event, poll_s: float = 0.5) -> None:
        log.info("projector_started", projections=[p.name for p in self.runner.projections])
        start_score_series(self.settings, stop)  # its own thread: Kafka, not the event store
        backoff = 1.0
        while not stop.is_set():
            try:
                tick = self.tick()
                backoff = 1.0
            except (psycopg.OperationalError, DatabaseUnavailableError) as exc:
                log.warning("projector_database_unavailable", error=str(exc)[:300], retry_in_s=backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                self._reconnect()
                continue
            if tick.projected or tick.fired:
                log.info("projector_progress", **tick.__dict__, positions=self.runner.positions())
            stop.wait(poll_s)
        log.info("projector_stopped")

    def _reconnect(self) -> None:
        self.conn.close()
        self.timers.forget()
        try:
            self._open()
        except DatabaseUnavailableError as exc:
            log.warning("projector_reconnect_failed", error=str(exc)[:300])

    def close(self) -> None:
        self.conn.close()
        if self.owns_app:
            self.app.close()
