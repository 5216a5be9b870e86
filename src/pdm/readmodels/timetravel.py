"""Time travel: what was known at T, folded from the event store's events recorded up to T.

The same folds as the live projections (`pdm.readmodels.rows`), stopped at T: an answer about
the past is computed the way the present is, never from a snapshot that could drift.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from pdm.domain.alert_values import AlertState
from pdm.domain.application import PdmApplication
from pdm.domain.assets import Asset
from pdm.readmodels.rows import Row, fold_alert, fold_asset, health_status


def known_at(app: PdmApplication, aggregate_id: UUID, t: datetime) -> list[Any]:
    """An aggregate's events recorded at or before T (its versions are recorded in order)."""
    events = []
    for event in app.events.get(aggregate_id):
        if event.timestamp > t:
            break
        events.append(event)
    return events


def alert_as_of(app: PdmApplication, alert_id: UUID, t: datetime, site: str = "") -> Row | None:
    row: Row | None = None
    for event in known_at(app, alert_id, t):
        row = fold_alert(row, event, 0, site)
    if row is not None:
        del row["position"]
    return row


def alerts_as_of(app: PdmApplication, candidates: Iterable[tuple[UUID, str]], t: datetime) -> list[Row]:
    found = (alert_as_of(app, alert_id, t, site) for alert_id, site in candidates)
    return [row for row in found if row is not None]


def asset_health_as_of(app: PdmApplication, asset_id: str, alert_ids: Iterable[UUID],
                       t: datetime) -> Row | None:
    """The asset as registered by T, with the alerts that were open at T."""
    row: Row | None = None
    for event in known_at(app, Asset.create_id(asset_id), t):
        row = fold_asset(row, event, 0)
    if row is None:
        return None
    open_severities = [a["severity"] for a in alerts_as_of(app, ((i, "") for i in alert_ids), t)
                       if a["state"] != AlertState.RESOLVED.value]
    del row["position"]
    return row | {"open_alerts": len(open_severities),
                  "status": health_status(row["decommissioned"], open_severities), "as_of": t}
