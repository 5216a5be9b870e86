"""A database that is down, cut off or saturated answers 503 with Retry-After, never a 500.

Queries (the read pool, psycopg) and commands (the event store, whose library wraps psycopg's
errors in its own) fail in different types for the same conditions; both map here, so a client
sees one stable code per condition and knows that retrying the same request is safe.
"""

from __future__ import annotations

import psycopg
from eventsourcing import persistence
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from psycopg import errors as pg_errors
from psycopg_pool import PoolTimeout

from pdm.api.errors import error_response
from pdm.infra.database import DatabaseUnavailableError
from pdm.logs import get_logger

log = get_logger(__name__)
RETRY_AFTER_S = "2"
UNAVAILABLE = (PoolTimeout, psycopg.OperationalError, psycopg.InterfaceError, DatabaseUnavailableError,
               persistence.OperationalError, persistence.InterfaceError)


def unavailable_response(request: Request, exc: Exception) -> JSONResponse:
    cause = exc.__cause__ if isinstance(exc, persistence.PersistenceError) else exc
    if isinstance(cause, pg_errors.QueryCanceled):
        code, message = "query_timeout", "the query ran past its time limit and was cancelled"
    elif isinstance(cause, PoolTimeout):
        code, message = "database_unavailable", "no database connection became free in time"
    else:
        code, message = "database_unavailable", "the database cannot be reached right now"
    log.warning("database_unavailable", code=code, path=request.url.path, error=str(exc)[:300])
    return error_response(503, code, message, {"reason": type(cause or exc).__name__},
                          headers={"Retry-After": RETRY_AFTER_S})


def install_unavailable_handlers(app: FastAPI) -> None:
    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        return unavailable_response(request, exc)

    for kind in UNAVAILABLE:
        app.add_exception_handler(kind, _unavailable)
