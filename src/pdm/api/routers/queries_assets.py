"""Asset queries under /v1/assets: the list, health (now or as of T) and the score series."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from pdm.api.errors import ApiError
from pdm.api.responses import RowsResponse
from pdm.api.routers._commands import DomainDep, blocking
from pdm.api.routers._reads import After, ReadsDep, after_responses, wait_for
from pdm.readmodels import queries
from pdm.readmodels.timetravel import asset_health_as_of

router = APIRouter(prefix="/v1/assets", tags=["assets"])
NOT_FOUND = {404: {"description": "unknown asset (`asset_not_found`)"}}
# pdm.readmodels.rows.health_status: an unknown filter value is refused, not answered with nothing.
HealthStatus = Literal["ok", "warning", "critical", "emergency", "decommissioned"]
MAX_POINTS = 10_000


@router.get("", response_model=dict[str, Any], responses=after_responses())
async def list_assets(reads: ReadsDep, after: After = None, site: str | None = None,
                      status: HealthStatus | None = None, cursor: str | None = None,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> RowsResponse:
    """By asset id; `cursor` is the last asset id of the page before (`next_cursor`)."""
    async with reads.connection() as conn:
        await wait_for(conn, "asset_health", after)
        rows = await queries.list_assets(conn, site, status, cursor, limit + 1)
    more = len(rows) > limit
    return RowsResponse({"items": rows[:limit], "next_cursor": rows[limit - 1]["asset_id"] if more else None})


@router.get("/{asset_id}/health", response_model=dict[str, Any], responses=after_responses(NOT_FOUND))
async def health(asset_id: str, reads: ReadsDep, domain: DomainDep, after: After = None,
                 as_of: AwareDatetime | None = None) -> RowsResponse:
    """Live from the read model; with `as_of`, folded from the events recorded up to then."""
    async with reads.connection() as conn:
        await wait_for(conn, "asset_health", after)
        if as_of is None:
            row = await queries.asset_health(conn, asset_id)
        else:
            alerts, _ = await queries.list_alerts(conn, queries.AlertFilter(asset_id=asset_id), 10_000,
                                                  recorded_by=as_of)
            row = await blocking(asset_health_as_of, domain, asset_id, [a["alert_id"] for a in alerts], as_of)
    if row is None:
        raise ApiError(404, "asset_not_found", f"no asset {asset_id!r}", {"id": asset_id})
    return RowsResponse(row)


@router.get("/{asset_id}/scores", response_model=dict[str, Any],
            responses={400: {"description": "`invalid_range`, `too_many_points`"}})
async def scores(asset_id: str, reads: ReadsDep,
                 start: Annotated[AwareDatetime, Query(alias="from")],
                 end: Annotated[AwareDatetime, Query(alias="to")],
                 step: Annotated[int, Query(ge=60, le=86_400, description="seconds per point")] = 300,
                 ) -> RowsResponse:
    """Mean, min, max and anomalous count per `step`, from one-minute buckets: cheap for charts."""
    if end <= start:
        raise ApiError(400, "invalid_range", "`to` must be after `from`",
                       {"from": start.isoformat(), "to": end.isoformat()})
    if (end - start).total_seconds() / step > MAX_POINTS:
        raise ApiError(400, "too_many_points", f"more than {MAX_POINTS} points: widen `step`",
                       {"max_points": MAX_POINTS})
    async with reads.connection() as conn:
        points = await queries.score_series(conn, asset_id, start, end, step)
    return RowsResponse({"asset_id": asset_id, "from": start, "to": end, "step": step, "points": points})
