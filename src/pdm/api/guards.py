"""Request guards that run before any route: input no handler could store or look up."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from pdm.api.errors import error_response

NUL = "\x00"


class NulCharacterGuard:
    """PostgreSQL text cannot hold a NUL character, and psycopg refuses one before sending with a
    ValueError that would surface as a 500 from whichever query took the parameter. A NUL in the
    path or the query string is refused here instead, as the validation error it is. Installed
    inside authentication, so an anonymous caller still gets 401 first."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        field = nul_field(scope) if scope["type"] == "http" else None
        if field is None:
            await self.app(scope, receive, send)
            return
        details = [{"field": field, "reason": "NUL (0x00) characters are not allowed"}]
        await error_response(422, "validation_failed", "request is invalid", details)(scope, receive, send)


def nul_field(scope: Scope) -> str | None:
    """`path` or `query.<name>` holding a NUL (raw or %00-encoded), else None."""
    if NUL in scope["path"]:
        return "path"
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if NUL in name or NUL in value:
            return f"query.{name.replace(NUL, '')}"
    return None
