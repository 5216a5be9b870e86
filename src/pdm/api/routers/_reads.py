"""What query routes share: their own connection pool, and waiting for a position (read-your-writes)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from pdm.api.errors import ApiError, add_refusals
from pdm.readmodels.queries import log_head, tracked_position
from pdm.settings import Settings

WAIT_S, POLL_S = 5.0, 0.05
APPLICATION_NAME = "pdm-api-queries"  # pg_stat_activity tells this pool from the command side's
After = Annotated[int | None, Query(ge=0, description="wait until the read model reached this "
                                                      "event-store position (a command's `position`)")]
AFTER_REFUSALS = {400: "`position_not_issued`: `after` is beyond the newest position the event log issued",
                  503: "`projection_lagging` (with Retry-After): the read model has not reached `after`"}


class ReadPool:
    """A pool apart from the command side's, so a burst of queries never starves a command."""

    def __init__(self, settings: Settings) -> None:
        pg, timeout_ms = settings.postgres, int(settings.api.query_timeout_s * 1000)
        self.pool = AsyncConnectionPool(
            pg.conninfo(), min_size=1, max_size=pg.pool_max_size, open=False,
            kwargs={"options": f"-c search_path={pg.schema_name} -c statement_timeout={timeout_ms}",
                    "autocommit": True, "application_name": APPLICATION_NAME})
        self.wait_s = pg.pool_timeout_s  # then 503: a down or saturated database never hangs a query
        self._opened = False

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        if not self._opened:  # open() is idempotent and locked: concurrent first requests are safe
            await self.pool.open()  # no wait=True: a fill timeout under load closes the pool for good
            self._opened = True
        async with self.pool.connection(timeout=self.wait_s) as conn:
            yield conn

    async def close(self) -> None:
        if self._opened:
            await self.pool.close()


async def get_read_pool(request: Request) -> ReadPool:
    """Created on first use, so an app without a database still starts and answers 503 here.
    Async although it never awaits: FastAPI runs a plain `def` dependency in a worker thread,
    a thread hop per request (a quarter of the API's samples under `pdm bench api`)."""
    settings: Settings = request.app.state.settings
    if settings.postgres.embedded:
        raise ApiError(503, "read_models_unavailable", "the read-model database is not configured",
                       headers={"Retry-After": "5"})
    pool = getattr(request.app.state, "read_pool", None)
    if pool is None:
        pool = request.app.state.read_pool = ReadPool(settings)
    return pool  # type: ignore[no-any-return]


ReadsDep = Annotated[ReadPool, Depends(get_read_pool)]


async def wait_for(conn: AsyncConnection[Any], projection: str, after: int | None,
                   timeout_s: float = WAIT_S) -> None:
    """Bounded: a lagging projector answers 503 with Retry-After rather than hanging a request.
    A position the log never issued is refused at once: no projector could ever reach it. The
    log's head is read only when the projection is behind, so a caught-up query costs one read."""
    if after is None:
        return
    deadline = time.monotonic() + timeout_s
    position = await tracked_position(conn, projection)
    if position < after and after > (head := await log_head(conn)):
        raise ApiError(400, "position_not_issued",
                       f"`after` is {after}, but the event log has issued positions up to {head} only",
                       {"field": "after", "after": after, "head": head})
    while position < after:
        if time.monotonic() >= deadline:
            raise ApiError(503, "projection_lagging",
                           f"{projection} is at position {position}, not yet {after}",
                           {"projection": projection, "position": position, "after": after},
                           headers={"Retry-After": "1"})
        await asyncio.sleep(POLL_S)
        position = await tracked_position(conn, projection)


def after_responses(own: dict[int, dict[str, Any]] | None = None) -> dict[int | str, dict[str, Any]]:
    """A query route's own documented refusals with what `?after=` may answer."""
    responses: dict[int | str, dict[str, Any]] = {status: dict(r) for status, r in (own or {}).items()}
    add_refusals(responses, AFTER_REFUSALS)
    return responses
