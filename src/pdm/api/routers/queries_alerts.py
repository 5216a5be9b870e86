"""Alert queries under /v1/alerts: the filtered, paged list (now or as of T) and the timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from pdm.api.errors import ApiError
from pdm.api.responses import RowsResponse
from pdm.api.routers._commands import DomainDep, blocking
from pdm.api.routers._reads import After, ReadsDep, after_responses, wait_for
from pdm.readmodels import queries
from pdm.readmodels.cursors import InvalidCursorError, encode_cursor
from pdm.readmodels.timetravel import alerts_as_of

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
State = Literal["open", "acknowledged", "suppressed", "resolved"]
Sev = Literal["warning", "critical", "emergency"]
AS_OF_SCAN = 200


@router.get("", response_model=dict[str, Any],
            responses=after_responses({400: {"description": "`invalid_cursor`"}}))
async def list_alerts(
    reads: ReadsDep, domain: DomainDep, after: After = None,
    state: Annotated[list[State] | None, Query()] = None,
    severity: Annotated[list[Sev] | None, Query()] = None,
    asset_id: str | None = None, site: str | None = None,
    raised_from: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    raised_to: Annotated[AwareDatetime | None, Query(alias="to")] = None,
    as_of: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50, cursor: str | None = None,
) -> RowsResponse:
    """Newest first by (raised_at, alert_id); `cursor` is the opaque `next_cursor` of the page before."""
    filters = queries.AlertFilter(state, severity, asset_id, site, raised_from, raised_to)
    try:
        async with reads.connection() as conn:
            await wait_for(conn, "alerts", after)
            if as_of is not None:
                return RowsResponse(await _as_of(conn, domain, filters, as_of, limit, cursor))
            rows, next_cursor = await queries.list_alerts(conn, filters, limit, cursor)
    except InvalidCursorError as exc:
        raise ApiError(400, "invalid_cursor", str(exc), {"cursor": cursor}) from None
    return RowsResponse({"items": rows, "next_cursor": next_cursor})


async def _as_of(conn: Any, domain: Any, filters: queries.AlertFilter, t: datetime, limit: int,
                 cursor: str | None) -> dict[str, Any]:
    """Candidates are alerts already raised at T (raised_at never changes); each is folded to T,
    then filtered on what it was at T, so states and severities are those of the past."""
    identity = queries.AlertFilter(None, None, filters.asset_id, filters.site, filters.raised_from,
                                   filters.raised_to)
    items: list[dict[str, Any]] = []
    while len(items) < limit:
        rows, cursor = await queries.list_alerts(conn, identity, AS_OF_SCAN, cursor, recorded_by=t)
        folded = await blocking(alerts_as_of, domain, [(r["alert_id"], r["site"]) for r in rows], t)
        items += [a for a in folded if (not filters.state or a["state"] in filters.state)
                  and (not filters.severity or a["severity"] in filters.severity)]
        if cursor is None:
            break
    more = len(items) > limit or cursor is not None
    items = items[:limit]
    next_cursor = encode_cursor(items[-1]["raised_at"], items[-1]["alert_id"]) if more and items else None
    return {"items": items, "next_cursor": next_cursor, "as_of": t}


@router.get("/{alert_id}/timeline", response_model=dict[str, Any],
            responses=after_responses({404: {"description": "`alert_not_found`"}}))
async def alert_timeline(alert_id: UUID, reads: ReadsDep, after: After = None) -> RowsResponse:
    """Every transition with who made it and their note, oldest first."""
    async with reads.connection() as conn:
        await wait_for(conn, "alert_timeline", after)
        rows = await queries.timeline(conn, alert_id)
    if not rows:
        raise ApiError(404, "alert_not_found", f"no alert {alert_id}", {"id": str(alert_id)})
    return RowsResponse({"alert_id": alert_id, "transitions": rows})

