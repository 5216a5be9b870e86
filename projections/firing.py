"""The timer runner: fires due rows of `alert_timers` through the domain, each key once.

Firing is idempotent in the domain (a timer's key is recorded on the alert, a no-data timer's
key is the anomaly id), so a crash between firing and marking the row fired only repeats a
no-op. A timer that lost a race to a person (ConcurrentChangeError) stays pending for the next
tick, where the domain finds it stale or fires it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from pdm.domain.application import PdmApplication
from pdm.domain.errors import ConcurrentChangeError, DomainError
from pdm.domain.timers import Timer, TimerKind
from pdm.logs import get_logger

log = get_logger(__name__)
ACTOR = "projector"
DUE = """
SELECT timer_key, kind, aggregate_id, asset_id, due_at, last_reading_at FROM alert_timers
WHERE fired_at IS NULL AND due_at <= %s ORDER BY due_at LIMIT %s"""
MARK = "UPDATE alert_timers SET fired_at = %s, fired_position = %s, outcome = %s WHERE timer_key = %s"


@dataclass
class FiringStats:
    fired: int = 0
    retried: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


class TimerRunner:
    def __init__(self, app: PdmApplication, conn: psycopg.Connection[Any], batch: int = 100) -> None:
        self.app, self.conn, self.batch = app, conn, batch
        self.stats = FiringStats()

    def fire_due(self, now: datetime) -> int:
        """Fires what is due at `now` (the caller's clock, so tests control time)."""
        rows = self.conn.execute(DUE, (now, self.batch)).fetchall()
        for row in rows:
            self._fire(row, now)
        return len(rows)

    def _fire(self, row: tuple[Any, ...], now: datetime) -> None:
        key, kind, aggregate_id, asset_id, due_at, last_reading_at = row
        timer = Timer(due_at, TimerKind(kind), UUID(str(aggregate_id)), key)
        try:
            position, outcome = self._call_domain(timer, asset_id, last_reading_at, now), "fired"
        except ConcurrentChangeError:
            self.stats.retried += 1
            log.info("timer_retried_after_conflict", timer_key=key)
            return
        except DomainError as exc:  # deterministic refusal: retrying would refuse again
            position, outcome = self.app.position(), f"refused:{exc.code}"
            log.warning("timer_refused", timer_key=key, code=exc.code, error=str(exc)[:300])
        self.conn.execute(MARK, (now, position, outcome, key))
        self.stats.fired += 1
        self.stats.outcomes[outcome] = self.stats.outcomes.get(outcome, 0) + 1
        log.info("timer_fired", timer_key=key, kind=kind, asset_id=asset_id, outcome=outcome,
                 position=position)

    def _call_domain(self, timer: Timer, asset_id: str, last_reading_at: datetime | None,
                     now: datetime) -> int:
        """No-data goes through `report_no_data` with the asset's name, which also covers an
        asset that never had an anomaly (and so was never registered): it is auto-registered."""
        audit = {"actor": ACTOR, "correlation_id": f"timer:{timer.key}"}
        if timer.kind == TimerKind.NO_DATA:
            since = last_reading_at or timer.due_at - self.app.policy.no_data_after
            return self.app.report_no_data(asset_id, since, timer.due_at, anomaly_id=timer.key,
                                           **audit).position
        return self.app.fire_timer(timer, now, **audit)
