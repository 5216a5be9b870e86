"""Server-sent events under /v1/live: an asset's newest score, pushed as the projector stores it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from pdm.api.admission import Budget, Hold
from pdm.api.routers._reads import ReadPool, ReadsDep
from pdm.api.unavailable import UNAVAILABLE
from pdm.readmodels.queries import fetch

router = APIRouter(prefix="/v1/live", tags=["live"])
LATEST = ("SELECT ts, score, threshold, is_anomalous, model_version FROM rm_asset_latest_score "
          "WHERE asset_id = %s")
HEARTBEAT_S = 15.0


def event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, default=str)}\n\n".encode()


async def get_live_budget(request: Request) -> Budget:
    """The dependency (async: no thread hop)."""
    return live_budget(request.app.state)


def live_budget(state: Any) -> Budget:
    """Open streams per process, capped by `api.live_max_streams` (each one polls the read pool)."""
    budget = getattr(state, "live_budget", None)
    if budget is None:
        budget = state.live_budget = Budget(state.settings.api.live_max_streams, "live_streams_exhausted",
                                            "live streams", 5)
    return budget  # type: ignore[no-any-return]


async def score_events(request: Request, reads: ReadPool, asset_id: str, poll_s: float,
                       limit: int | None, hold: Hold) -> AsyncIterator[bytes]:
    """Polls the one-row latest-score table: one indexed read per client per poll, and a
    connection held only for that read, so a thousand open dashboards hold no pool slots.
    A database that fails mid-stream ends it with an `unavailable` event; the client's
    EventSource reconnects after the `retry` interval. Writes wait for the client to read
    (the server's flow control), so a slow reader holds one event, not a growing backlog."""
    try:
        yield b"retry: 2000\n\n"
        async for chunk in _poll(request, reads, asset_id, poll_s, limit):
            yield chunk
    finally:
        hold.release()


async def _poll(request: Request, reads: ReadPool, asset_id: str, poll_s: float,
                limit: int | None) -> AsyncIterator[bytes]:
    last, sent, idle = None, 0, 0.0
    while not await request.is_disconnected():
        try:
            async with reads.connection() as conn:
                rows = await fetch(conn, LATEST, (asset_id,))
        except UNAVAILABLE as exc:
            yield event("unavailable", {"code": "database_unavailable", "message": str(exc)[:200]})
            return
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
                      budget: Annotated[Budget, Depends(get_live_budget)],
                      poll: Annotated[float, Query(ge=0.2, le=10)] = 1.0,
                      limit: Annotated[int | None, Query(ge=1, description="close after N events")] = None,
                      ) -> StreamingResponse:
    """`text/event-stream` of `score` events. Browsers read it with fetch (it needs the API key
    header, which EventSource cannot send). At most `api.live_max_streams` are open at once;
    beyond that 503 `live_streams_exhausted` with Retry-After."""
    hold = budget.hold()
    hold.take(1)
    # The background task frees the slot also when the stream never started (a client gone
    # before the first byte), where the generator's own `finally` would not run.
    return StreamingResponse(score_events(request, reads, asset_id, poll, limit, hold),
                             media_type="text/event-stream", background=BackgroundTask(hold.release),
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
