"""Each request's log context carries its correlation id, and leaves the caller's context as it was."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from pdm.api.app import CorrelationIdMiddleware


def test_the_request_logs_under_the_callers_id_and_the_outer_context_is_restored_after() -> None:
    seen: list[Any] = []
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(structlog.contextvars.get_contextvars().get("correlation_id"))
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def request() -> Any:
        structlog.contextvars.bind_contextvars(correlation_id="outer")
        scope = {"type": "http", "headers": [(b"x-correlation-id", b"abc-123")]}
        await CorrelationIdMiddleware(app)(scope, None, send)  # type: ignore[arg-type]
        return structlog.contextvars.get_contextvars().get("correlation_id")

    after = asyncio.run(request())

    assert seen == ["abc-123"] and after == "outer"
    assert (b"x-correlation-id", b"abc-123") in sent[0]["headers"]
