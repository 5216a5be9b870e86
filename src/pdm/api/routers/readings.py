"""POST /v1/readings: a batch of readings, validated whole, answered once the broker has it."""

from __future__ import annotations

import gzip
import zlib
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from pdm.api.admission import Budget, Hold
from pdm.api.deps import get_publisher, get_settings
from pdm.api.errors import ApiError
from pdm.contracts import (
    DEFAULT_POLICY,
    EventTimePolicy,
    ReadingBatchV1,
    ReadingV1,
    group_into_batches,
    validate_readings,
)
from pdm.contracts.decoding import batch_valid_readings
from pdm.infra.broker import BrokerUnavailableError
from pdm.ingest.publisher import ReadingPublisher
from pdm.settings import Settings

router = APIRouter(prefix="/v1", tags=["readings"])
RETRY_AFTER_S = "5"
SCHEMAS = "#/components/schemas/"
READINGS = {"type": "array", "items": {"$ref": f"{SCHEMAS}ReadingV1"}, "minItems": 1}
# The route reads its raw body itself (bounded, gunzipped, NDJSON or JSON, then the columnar fast
# path), so FastAPI derives no body from a parameter: the spec is told what the route accepts. A
# JSON body is one reading or an array of them; batches and frames are refused as items.
REQUEST_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"oneOf": [READINGS["items"], READINGS]}},
    "application/x-ndjson": {"schema": {**READINGS, "description": "each reading on a line of its own"}},
}}}


class Accepted(BaseModel):
    accepted: int


@router.post(
    "/readings",
    status_code=202,
    response_model=Accepted,
    openapi_extra=REQUEST_BODY,
    responses={
        413: {"description": "too many readings or too large a body"},
        422: {"description": "invalid items: details lists (index, field, reason); nothing was published"},
        503: {"description": "the broker did not acknowledge in time (`broker_unavailable`), or the API "
                             "holds its limit of bodies in flight (`ingest_overloaded`); nothing was "
                             "promised: retry the same body after Retry-After seconds"},
    },
)
async def post_readings(
    request: Request,
    settings: Annotated[Settings, Depends(get_settings)],
    publisher: Annotated[ReadingPublisher, Depends(get_publisher)],
    budget: Annotated[Budget, Depends(get_ingest_budget)],
    backfill: Annotated[bool, Query(description="historical readings: archived with the backfill "
                                    "flag, scored like live ones, old alerts recorded, not paged")] = False,
) -> Accepted:
    """Body: a JSON reading or array of readings, or NDJSON (`application/x-ndjson`), optionally gzip.

    All or nothing: one invalid item rejects the whole batch with every problem listed.
    202 means the broker acknowledged every reading (acks=all), not merely that it was received.
    `?backfill=true` is `pdm publish --backfill`: the batches are marked, and event times are
    checked against the backfill window, which the gate applies to them too.
    """
    with budget.hold() as hold:  # given back once answered: parsed items and batches die with it
        body = await _read_body(request, settings.api.max_body_bytes, hold)
        items = _parse_items(body, request.headers.get("content-type", ""))
        if len(items) > settings.api.max_batch_readings:
            raise ApiError(
                413,
                "batch_too_large",
                f"{len(items)} readings; at most {settings.api.max_batch_readings} per request",
            )
        batches, accepted = _batches(items, publisher.max_batch, backfill), len(items)
        del body, items  # while the broker acknowledges, only the columnar batches stay in memory
        try:
            await publisher.publish_batches(batches)
        except BrokerUnavailableError as exc:
            raise ApiError(503, "broker_unavailable", str(exc),
                           headers={"Retry-After": RETRY_AFTER_S}) from None
        return Accepted(accepted=accepted)


def document_reading_schemas(app: FastAPI) -> None:
    """The contract models the request body refers to, in the spec's components."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        spec: dict[str, Any] = original()
        _, schemas = models_json_schema([(ReadingV1, "validation")], ref_template=SCHEMAS + "{model}")
        spec.setdefault("components", {}).setdefault("schemas", {}).update(schemas["$defs"])
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


async def get_ingest_budget(request: Request) -> Budget:
    """The dependency (async: no thread hop)."""
    return ingest_budget(request.app.state)


def ingest_budget(state: Any) -> Budget:
    """One per process, built on first use from the settings."""
    budget = getattr(state, "ingest_budget", None)
    if budget is None:
        limit = state.settings.api.ingest_max_inflight_bytes
        budget = state.ingest_budget = Budget(limit, "ingest_overloaded", "reading bytes")
    return budget  # type: ignore[no-any-return]


async def _read_body(request: Request, max_bytes: int, hold: Hold) -> bytes:
    """Admission comes before the body is read: a declared length is taken from the budget up
    front, so a refused request never had its body in memory; chunks beyond it are taken as they
    arrive (chunked uploads declare nothing)."""
    declared = _content_length(request)
    if declared is not None:
        if declared > max_bytes:
            raise ApiError(413, "body_too_large", f"request body exceeds {max_bytes} bytes")
        hold.take(declared)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise ApiError(413, "body_too_large", f"request body exceeds {max_bytes} bytes")
        if len(body) > hold.amount:
            hold.take(len(body) - hold.amount)
    encoding = request.headers.get("content-encoding", "identity").lower()
    if encoding == "gzip":
        data = _gunzip(bytes(body), max_bytes)
        hold.take(len(data))
        return data
    if encoding != "identity":
        raise ApiError(415, "unsupported_encoding", f"content-encoding {encoding!r}; use gzip or none")
    return bytes(body)


def _content_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    if not raw.isdigit():
        raise ApiError(400, "invalid_content_length", f"content-length {raw[:40]!r} is not a number")
    return int(raw)


def _gunzip(body: bytes, max_bytes: int) -> bytes:
    """Bounded: a small gzip bomb cannot expand past the body limit."""
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = decompressor.decompress(body, max_bytes + 1)
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise ApiError(400, "invalid_gzip", f"body is not valid gzip: {exc}") from None
    if len(data) > max_bytes or decompressor.unconsumed_tail:
        raise ApiError(413, "body_too_large", f"decompressed body exceeds {max_bytes} bytes")
    return data


def _parse_items(body: bytes, content_type: str) -> list[Any]:
    if "ndjson" in content_type or "jsonlines" in content_type:
        return [_loads(line, f"line {n + 1}") for n, line in enumerate(body.splitlines()) if line.strip()]
    parsed = _loads(body, "body")
    if isinstance(parsed, dict):
        return [parsed]
    if not isinstance(parsed, list):
        raise ApiError(
            422,
            "invalid_body",
            "body must be a JSON reading, an array of readings, or NDJSON",
            [{"index": None, "field": "body", "reason": "expected an object or an array"}],
        )
    return parsed


def _loads(raw: bytes, where: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"{where}: {exc}") from None


def _batches(items: list[Any], max_batch: int, backfill: bool) -> list[ReadingBatchV1]:
    """Valid bodies take the fast path; any invalid one is re-checked item by item, so the
    422 lists every problem exactly as before."""
    policy = _window(backfill)
    batches = batch_valid_readings(items, now=datetime.now(UTC), max_batch=max_batch, policy=policy)
    if batches is None:
        batches = group_into_batches(_validate(items, policy), max_batch)
    return [b.model_copy(update={"backfill": True}) for b in batches] if backfill else batches


def _window(backfill: bool) -> EventTimePolicy:
    """The gate's rule (`check_event_time(..., backfill=)`): backfill lifts only the live-age bound."""
    return replace(DEFAULT_POLICY, max_live_age=None) if backfill else DEFAULT_POLICY


def _validate(items: list[Any], policy: EventTimePolicy) -> list[ReadingV1]:
    readings, errors = validate_readings(items, now=datetime.now(UTC), policy=policy)
    if errors:
        details = [{"index": e.index, "field": e.field, "reason": e.reason} for e in errors[:1000]]
        raise ApiError(
            422,
            "invalid_readings",
            f"{len({e.index for e in errors})} of {len(items)} readings are invalid; none was published",
            details,
        )
    if not readings:
        raise ApiError(
            422,
            "empty_batch",
            "the batch holds no readings",
            [{"index": None, "field": "body", "reason": "no readings"}],
        )
    return readings
