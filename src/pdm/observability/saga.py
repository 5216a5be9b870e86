"""The rollout saga's metrics, read from its tables at scrape time so they survive restarts."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
from prometheus_client.core import GaugeMetricFamily, Metric

from pdm.observability.tables import TableCollector

POSITION = "SELECT coalesce(max(position), 0) FROM rollout_saga_tracking"
ROLLOUTS = ("SELECT count(*) FILTER (WHERE finished_at IS NULL), "
            "count(*) FILTER (WHERE finished_at IS NOT NULL) FROM rollout_saga_rollouts")
DEADLINES = "SELECT count(*) FROM rollout_deadlines WHERE fired_at IS NULL"


class SagaCollector(TableCollector):
    """Position, rollouts followed and pending deadlines, read from the saga's tables."""

    service = "saga"

    def _collect(self, conn: psycopg.Connection) -> Iterator[Metric]:
        position = conn.execute(POSITION).fetchone()
        active, finished = conn.execute(ROLLOUTS).fetchone() or (0, 0)
        pending = conn.execute(DEADLINES).fetchone()
        yield GaugeMetricFamily("pdm_saga_position", "Notification-log position the saga has read",
                                value=float(position[0] if position else 0))
        rollouts = GaugeMetricFamily("pdm_saga_rollouts", "Rollouts the saga follows", labels=["phase"])
        rollouts.add_metric(["active"], float(active))
        rollouts.add_metric(["finished"], float(finished))
        yield rollouts
        yield GaugeMetricFamily("pdm_saga_deadlines_pending", "Step deadlines not yet fired",
                                value=float(pending[0] if pending else 0))
