"""The model-version list under /v1/models, from the models read model."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter

from pdm.api.responses import RowsResponse
from pdm.api.routers._reads import After, ReadsDep, after_responses, wait_for
from pdm.readmodels import queries

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get("", response_model=dict[str, Any], responses=after_responses())
async def list_models(reads: ReadsDep, after: After = None,
                      state: Literal["trained", "validated", "rejected", "retired"] | None = None,
                      ) -> RowsResponse:
    async with reads.connection() as conn:
        await wait_for(conn, "models", after)
        return RowsResponse({"items": await queries.models(conn, state)})
