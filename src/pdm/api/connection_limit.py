"""uvicorn's connection limit (`api.max_connections`), refused with the API's JSON 503 and Retry-After."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import orjson

from pdm.settings import ApiSettings

RETRY_AFTER_S = 1
# uvicorn's HTTP implementations; each imports `service_unavailable` by name (not all may load).
PROTOCOL_MODULES = ("h11_impl", "httptools_impl", "zttp_impl", "zttp_h2_impl")


def connection_limit(api: ApiSettings, counted: Callable[[], None]) -> dict[str, Any]:
    """uvicorn's options for `api.max_connections`, and its refusal made to answer like every
    other 503 of the API, calling `counted` (the app's metric: the refusal never reaches the app's
    middleware). uvicorn counts the connection a request arrives on among the open ones and
    refuses at `limit_concurrency`, so N connections are served with a limit of N + 1."""
    if not api.max_connections:
        return {"limit_concurrency": None}
    install_refusal(api.max_connections, counted)
    return {"limit_concurrency": api.max_connections + 1}


def install_refusal(limit: int, counted: Callable[[], None]) -> None:
    """uvicorn answers past its limit with a plain-text 503 without Retry-After, from a module-level
    ASGI function that each protocol module imported by name, and offers no hook: that name is
    replaced. A uvicorn that no longer has it fails here, at start, not silently in production."""
    refusal = refusal_app(limit, counted)
    for name in PROTOCOL_MODULES:
        try:
            module = importlib.import_module(f"uvicorn.protocols.http.{name}")
        except ImportError:  # an implementation whose optional dependency is missing serves nothing
            continue
        if not hasattr(module, "service_unavailable"):
            raise RuntimeError(f"uvicorn.protocols.http.{name} has no service_unavailable to replace")
        module.service_unavailable = refusal  # type: ignore[attr-defined]


def refusal_app(limit: int, counted: Callable[[], None]) -> Any:
    body = orjson.dumps({"code": "connections_exhausted",
                         "message": "the API has too many open connections right now; retry later",
                         "details": {"limit": limit}})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"retry-after", str(RETRY_AFTER_S).encode()), (b"connection", b"close")]

    async def connections_exhausted(scope: Any, receive: Any, send: Any) -> None:
        counted()
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return connections_exhausted
