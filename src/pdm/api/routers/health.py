"""Liveness (`/healthz`) and readiness (`/readyz`: broker and database reachable, schema current)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from pdm.api.deps import get_settings
from pdm.infra import migrations
from pdm.infra.broker import BrokerUnavailableError, check_kafka
from pdm.infra.database import DatabaseUnavailableError, named
from pdm.infra.kafka import client_options
from pdm.settings import Settings

router = APIRouter(tags=["health"])
CHECK_TIMEOUT_S = 3.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


READINESS = {"type": "object", "required": ["status", "checks"],
             "properties": {"status": {"enum": ["ready", "unavailable"]},
                            "checks": {"type": "object", "additionalProperties": {"type": "string"}}}}


@router.get("/readyz", responses={
    200: {"description": "broker and database reachable",
          "content": {"application/json": {"schema": READINESS}}},
    503: {"description": "a dependency is down; `checks` says which (with Retry-After)",
          "content": {"application/json": {"schema": READINESS}}},
})
async def readyz(settings: Annotated[Settings, Depends(get_settings)]) -> JSONResponse:
    broker, database = await asyncio.gather(_broker_check(settings), _database_check(settings))
    checks = {"broker": broker, "database": database}
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
        headers=None if ready else {"Retry-After": "5"},
    )


async def _broker_check(settings: Settings) -> str:
    try:
        options = client_options(settings.kafka)  # TLS and SASL as the publisher connects
        await check_kafka(options.pop("bootstrap_servers"), CHECK_TIMEOUT_S, **options)
    except BrokerUnavailableError as exc:
        return str(exc)
    return "ok"


async def _database_check(settings: Settings) -> str:
    pg = settings.postgres
    try:
        _, pending = await asyncio.wait_for(
            asyncio.to_thread(migrations.status, named(pg.conninfo(), "pdm-api-health"), pg.schema_name),
            CHECK_TIMEOUT_S
        )
    except (TimeoutError, DatabaseUnavailableError) as exc:
        return str(exc) or "database check timed out"
    if pending:
        return f"migrations pending: {[m.path.name for m in pending]}"
    return "ok"
