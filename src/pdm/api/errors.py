"""JSON errors with a stable code: `{"code", "message", "details"}` for every failure."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pdm.domain import errors as domain
from pdm.logs import get_logger

log = get_logger(__name__)


class ApiError(Exception):
    """Raised by routes; rendered as JSON with the given HTTP status and stable code."""

    def __init__(
        self, status: int, code: str, message: str, details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details, self.headers = details, headers


def error_response(
    status: int, code: str, message: str, details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"code": code, "message": message, "details": details}
    return JSONResponse(body, status_code=status, headers=headers)


HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
              415: "unsupported_media_type", 422: "validation_failed", 429: "rate_limited",
              503: "unavailable"}


def domain_error_response(exc: domain.DomainError) -> JSONResponse:
    """Refusals keep the domain's stable code; the status says whose move it is next."""
    status, details = 400, None
    if isinstance(exc, domain.NotFoundError):
        status, details = 404, {"id": exc.name or str(exc.aggregate_id)}
    elif isinstance(exc, domain.ConcurrentChangeError):
        status, details = 409, {"id": str(exc.aggregate_id), "expected_version": exc.expected_version,
                                "actual_version": exc.actual_version, "changes": list(exc.changes)}
    elif isinstance(exc, domain.AlertStateError):
        status, details = 409, {"id": str(exc.alert_id), "state": str(exc.state), "action": exc.action}
    elif isinstance(exc, CONFLICTS):
        status = 409
    elif isinstance(exc, INVALID):
        status = 422
    return error_response(status, exc.code, str(exc), details)


CONFLICTS = (domain.AssetDecommissionedError, domain.AssetAlreadyRegisteredError,
             domain.WorkOrderConflictError, domain.ModelVersionStateError,
             domain.ModelVersionConflictError, domain.SeverityNotHigherError)
INVALID = (domain.InvalidChannelError, domain.InvalidMaintenanceWindowError, domain.InvalidSilenceError,
           domain.InvalidThresholdError, domain.InvalidAmendmentError, domain.InvalidTrainingWindowError)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(domain.DomainError)
    async def _domain_error(_: Request, exc: domain.DomainError) -> JSONResponse:
        return domain_error_response(exc)

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "reason": e["msg"]} for e in exc.errors()
        ]
        return error_response(422, "validation_failed", "request is invalid", details)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("request_failed", error=type(exc).__name__)
        return error_response(500, "internal_error", "an unexpected error occurred")


ERROR_SCHEMA = {
    "type": "object", "title": "Error", "required": ["code", "message", "details"],
    "properties": {"code": {"type": "string", "description": "stable, machine-readable"},
                   "message": {"type": "string"}, "details": {}},
}
# What the auth middleware may answer on any operation that needs a key (see pdm.api.auth).
KEY_REFUSALS = {"401": "no key, or a malformed, unknown or revoked one (`unauthenticated`)",
                "403": "the key lacks the scope (`forbidden`, `details.required_scope`)",
                "429": "the key spent its budget for the scope (`rate_limited`, with Retry-After)",
                "503": "unavailable for now, retry after `Retry-After`: keys could not be loaded yet "
                       "(`auth_unavailable`), the database is down (`database_unavailable`, "
                       "`query_timeout`), too many commands queued (`commands_overloaded`), too many "
                       "connections (`connections_exhausted`) or live streams "
                       "(`live_streams_exhausted`), or, on ingestion, the broker is down "
                       "(`broker_unavailable`) or too many bytes are in flight (`ingest_overloaded`)"}


def document_error_responses(app: FastAPI) -> None:
    """The spec says what the handlers above really send: every 4xx/5xx is an `Error` body (not
    FastAPI's default `{"detail"}`), a JSON body can be refused as unparsable (400), and every
    operation that needs a key lists the middleware's refusals. Installed after the key schemes."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        spec: dict[str, Any] = original()
        spec.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        for operations in spec.get("paths", {}).values():
            for method, operation in operations.items():
                _document_operation(method, operation)
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def add_refusals(responses: dict[Any, dict[str, Any]], refusals: dict[Any, str]) -> None:
    """One status can carry several codes: a refusal's description is joined to the one there.
    Idempotent: FastAPI caches the spec, and every `app.openapi()` call documents it again."""
    for status, description in refusals.items():
        response = responses.setdefault(status, {})
        if description not in response.get("description", ""):
            response["description"] = "; ".join(filter(None, (response.get("description"), description)))


def _document_operation(method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if method in ("post", "put", "patch"):  # FastAPI's spec has no answer for an unparsable body
        responses.setdefault("400", {"description": "unparsable body (`bad_request`, `invalid_json`)"})
    if operation.get("security"):
        add_refusals(responses, KEY_REFUSALS)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for status, response in responses.items():
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        # FastAPI's default 422 names a shape our handler never sends; a route's own body stays.
        if status[0] in "45" and (not schema or schema.get("$ref", "").endswith("/HTTPValidationError")):
            response["content"] = error
