"""The projector's metrics, read from its tables at scrape time so they survive restarts."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
from prometheus_client.core import GaugeMetricFamily, Metric

from pdm.observability.tables import TableCollector

POSITIONS = "SELECT projection, position FROM projection_tracking"
PARKED = "SELECT projection, count(*) FROM projection_parked GROUP BY projection"
TIMERS = ("SELECT kind, count(*) FILTER (WHERE fired_at IS NOT NULL), "
          "count(*) FILTER (WHERE fired_at IS NULL) FROM alert_timers GROUP BY kind")


class ProjectorCollector(TableCollector):
    """Positions, lag, parked events and timers, read from the projector's tables."""

    service = "projector"

    def __init__(self, conninfo: str, schema: str, head: Callable[[], int | None]) -> None:
        super().__init__(conninfo, schema)
        self.head = head

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
