"""Corrections watch: alerts whose readings were corrected get an `Amended` event, never a silent change.

Every scan (the projector runs it next to the no-data watch) asks the archive which alerts have
a corrected reading (revision > 0) inside their episode, padded by `margin` so the windows that
end there are included: unresolved alerts and those seen in the last `recent`. For an alert with
a correction archived after the last one it handled, the asset's history is replayed from the
corrected archive through the alert's own model (`pdm.replay.corrections`), and `amend_alert`
records the new `first_score` and `peak_score`. Amending is idempotent on the values, so a
restarted projector, which has forgotten what it handled, records nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg

from pdm.domain.application import PdmApplication
from pdm.domain.errors import DomainError
from pdm.logs import get_logger
from pdm.replay.corrections import AlertInputs, model_for, rescored
from pdm.settings import Settings

log = get_logger(__name__)
CORRECTED_ALERTS = """
SELECT a.alert_id, a.asset_id, a.raised_at, a.last_seen, a.model_version, c.readings, c.newest
FROM rm_alerts a CROSS JOIN LATERAL (
    SELECT count(*) AS readings, max(r.ingested_at) AS newest FROM readings_archive r
    WHERE r.asset_id = a.asset_id AND r.revision > 0
      AND r.ts >= a.raised_at - %(margin)s AND r.ts <= a.last_seen + %(margin)s) c
WHERE (a.state <> 'resolved' OR a.last_seen >= %(recent)s) AND c.readings > 0"""
ACTOR = "projector"


class CorrectionWatch:
    """Call `scan(now)` every few seconds; it replays only alerts with a correction it has not handled."""

    def __init__(self, settings: Settings, conn: psycopg.Connection[Any], app: PdmApplication,
                 margin: timedelta = timedelta(minutes=1), recent: timedelta = timedelta(days=7)) -> None:
        self.settings, self.conn, self.app = settings, conn, app
        self.margin, self.recent = margin, recent
        self.handled: dict[UUID, datetime] = {}

    def scan(self, now: datetime) -> int:
        """How many alerts were amended."""
        rows = self.conn.execute(CORRECTED_ALERTS, {"margin": self.margin, "recent": now - self.recent})
        amended = 0
        for alert_id, asset_id, raised_at, last_seen, version, count, newest in rows.fetchall():
            if self.handled.get(alert_id, datetime.min.replace(tzinfo=newest.tzinfo)) >= newest:
                continue
            inputs = AlertInputs(asset_id, raised_at, last_seen, version)
            try:
                amended += self._amend(alert_id, inputs, count, newest)
            except DomainError as exc:  # e.g. a lost race: the next scan decides again
                log.warning("correction_amend_failed", alert_id=str(alert_id), error=str(exc)[:300])
                continue
            self.handled[alert_id] = newest
        return amended

    def _amend(self, alert_id: UUID, inputs: AlertInputs, count: int, newest: datetime) -> int:
        model = model_for(self.settings, inputs.model_version)
        values = None if model is None else rescored(self.settings, inputs, model)
        if values is None:
            log.warning("correction_not_replayable", alert_id=str(alert_id),
                        model_version=inputs.model_version)
            return 0
        before = self.app.get_alert(alert_id).version
        reason = f"{count} corrected reading(s) in the episode's windows, newest {newest.isoformat()}"
        self.app.amend_alert(alert_id, values, reason, actor=ACTOR,
                             correlation_id=f"corrections:{alert_id}/{newest.isoformat()}")
        changed = self.app.get_alert(alert_id).version > before
        if changed:
            log.info("alert_amended", alert_id=str(alert_id), asset_id=inputs.asset_id, **values)
        return int(changed)
