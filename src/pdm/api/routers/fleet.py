"""The fleet summary under /v1/fleet: assets and open alerts by site and status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from pdm.api.responses import RowsResponse
from pdm.api.routers._reads import After, ReadsDep, after_responses, wait_for
from pdm.readmodels import queries

router = APIRouter(prefix="/v1/fleet", tags=["fleet"])


@router.get("/summary", response_model=dict[str, Any], responses=after_responses())
async def fleet_summary(reads: ReadsDep, after: After = None) -> RowsResponse:
    """From the fleet_summary projection (one row per site and status), not counted per request."""
    async with reads.connection() as conn:
        await wait_for(conn, "fleet_summary", after)
        rows = await queries.fleet_summary(conn)
    by_status: dict[str, int] = {}
    for row in rows:
        by_status[row["status"]] = by_status.get(row["status"], 0) + row["assets"]
    total = sum(by_status.values())
    return RowsResponse({"assets": total, "by_status": by_status, "by_site_and_status": rows})
