"""The projector's metrics, read from its tables at scrape time so they survive restarts."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from pdm.infra.database import DatabaseUnavailableError, connect
from pdm.logs import get_logger

log = get_logger(__name__)
POSITIONS = "SELECT projection, position FROM projection_tracking"
PARKED = "SELECT projection, count(*) FROM projection_parked GROUP BY projection"
TIMERS = ("SELECT kind, count(*) FILTER (WHERE fired_at IS NOT NULL), "
          "count(*) FILTER (WHERE fired_at IS NULL) FROM alert_timers GROUP BY kind")


class ProjectorCollector(Collector):
    """One short connection per scrape (every ~15 s): cheaper than instrumenting the loop, and
    the numbers are the durable ones, not a process's memory of them."""

    def __init__(self, conninfo: str, schema: str, head: Callable[[], int | None]) -> None:
        self.conninfo, self.schema, self.head = conninfo, schema, head

    def collect(self) -> Iterator[Metric]:
        try:
            with connect(self.conninfo, self.schema, autocommit=True) as conn:
                yield from self._collect(conn)
        except (DatabaseUnavailableError, psycopg.Error) as exc:
            log.warning("projector_metrics_unavailable", error=str(exc)[:200])

    def _collect(self, conn: psycopg.Connection) -> Iterator[Metric]:
        head = self.head() or 0
        position = GaugeMetricFamily("pdm_projection_position", "Notification-log position reached",
                                     labels=["projection"])
        lag = GaugeMetricFamily("pdm_projection_lag_events", "Events in the log not yet projected",
                                labels=["projection"])
        for name, at in conn.execute(POSITIONS).fetchall():
            position.add_metric([name], at)
            lag.add_metric([name], max(0, head - at))
        yield from (position, lag)
        parked = GaugeMetricFamily("pdm_projection_parked_events", "Poison events parked",
                                   labels=["projection"])
        for name, count in conn.execute(PARKED).fetchall():
            parked.add_metric([name], count)
        yield parked
        fired = GaugeMetricFamily("pdm_timers_fired", "Durable timers fired", labels=["kind"])
        pending = GaugeMetricFamily("pdm_timers_pending", "Durable timers not yet fired", labels=["kind"])
        for kind, done, waiting in conn.execute(TIMERS).fetchall():
            fired.add_metric([kind], done)
            pending.add_metric([kind], waiting)
        yield from (fired, pending)
