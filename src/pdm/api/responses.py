"""JSON answers of the query routes: database rows encoded by orjson, without a pydantic round trip."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse

# The bytes FastAPI's own serialisation gives for the same rows (UTC as `Z`, NaN as null),
# so moving a route onto this response changes no client's view: tests/unit/api compare them.
OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


class RowsResponse(JSONResponse):
    """Query routes return this instead of a dict: FastAPI then skips validating the dict
    against `dict[str, Any]` and encoding it with pydantic, measured at ~10% of the API's CPU
    under `pdm bench api`. Routes keep `response_model=` for their OpenAPI description."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=OPTIONS)
