"""Server-sent events under /v1/live: an asset's newest score, pushed as the projector stores it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from pdm.api.routers._reads import ReadPool, ReadsDep
from pdm.readmodels.queries import fetch

router = APIRouter(prefix="/v1/live", tags=["live"])
LATEST = ("SELECT ts, score, threshold, is_anomalous, model_version FROM rm_asset_latest_score "
          "WHERE asset_id = %s")
HEARTBEAT_S = 15.0


def event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, default=str)}\n\n".encode()


async def score_events(request: Request, reads: ReadPool, asset_id: str, poll_s: float,
                       limit: int | None) -> AsyncIterator[bytes]:
    """Polls the one-row latest-score table: one indexed read per client per poll, and a
    connection held only for that read, so a thousand open dashboards hold no pool slots."""
    last, sent, idle = None, 0, 0.0
    yield b"retry: 2000\n\n"
    while not await request.is_disconnected():
        async with reads.connection() as conn:
            rows = await fetch(conn, LATEST, (asset_id,))
        if rows and rows[0]["ts"] != last:
            last, idle = rows[0]["ts"], 0.0
            yield event("score", {"asset_id": asset_id, **rows[0]})
            sent += 1
            if limit is not None and sent >= limit:
                return
        elif (idle := idle + poll_s) >= HEARTBEAT_S:
            idle = 0.0
            yield b": keep-alive\n\n"  # proxies close silent streams
        await asyncio.sleep(poll_s)


@router.get("/assets/{asset_id}/scores", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
async def live_scores(asset_id: str, request: Request, reads: ReadsDep,
                      poll: Annotated[float, Query(ge=0.2, le=10)] = 1.0,
                      limit: Annotated[int | None, Query(ge=1, description="close after N events")] = None,
                      ) -> StreamingResponse:
    """`text/event-stream` of `score` events. Browsers read it with fetch (it needs the API key
    header, which EventSource cannot send)."""
    return StreamingResponse(score_events(request, reads, asset_id, poll, limit),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
