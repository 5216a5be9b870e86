"""API-key authentication, scope checks and rate limits for every route, in one ASGI middleware."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from pdm.api.errors import error_response
from pdm.api.ratelimit import RateLimiter
from pdm.infra.api_keys import ApiKey, ApiKeyStore, parse_token
from pdm.logs import get_logger
from pdm.settings import Settings

log = get_logger(__name__)
# Open without a key: probes and scrapers carry none, and the spec only describes the API.
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs",
                          "/docs/oauth2-redirect", "/redoc"})
PUBLIC_PREFIXES = ("/dashboard/",)  # static files only: the page's own API calls carry a key
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def required_scope(method: str, path: str) -> str | None:
    """The scope a request needs, from method and path alone, so routes added later are covered
    without declaring anything; None for the public paths."""
    if path in PUBLIC_PATHS or path == "/dashboard" or path.startswith(PUBLIC_PREFIXES):
        return None
    if path == "/v1/keys" or path.startswith("/v1/keys/"):
        return "admin"
    if method == "POST" and path == "/v1/readings":
        return "ingest"
    return "read" if method in READ_METHODS else "operate"


def token_from(headers: list[tuple[bytes, bytes]]) -> str | None:
    """`Authorization: Bearer <key>` or `X-API-Key: <key>`."""
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                return token.strip()
        elif name == b"x-api-key":
            return value.decode("latin-1").strip()
    return None


class KeyRing:
    """Active keys cached for `ttl_s`: one query per interval, not per request. When the
    database is down, the last snapshot keeps serving, so ingestion survives a database blip."""

    def __init__(self, load: Callable[[], dict[str, ApiKey]], ttl_s: float) -> None:
        self.load, self.ttl_s = load, ttl_s
        self.keys: dict[str, ApiKey] | None = None
        self.loaded_at = float("-inf")
        self.lock = asyncio.Lock()

    async def find(self, key_id: str) -> ApiKey | None:
        if time.monotonic() - self.loaded_at >= self.ttl_s:
            await self._refresh()
        if self.keys is None:
            raise KeysUnavailableError("API keys could not be loaded")
        return self.keys.get(key_id)

    async def _refresh(self) -> None:
        async with self.lock:
            if time.monotonic() - self.loaded_at < self.ttl_s:
                return
            try:
                self.keys = await asyncio.to_thread(self.load)
            except Exception as exc:
                log.warning("api_keys_unavailable", error=str(exc)[:300], stale=self.keys is not None)
            self.loaded_at = time.monotonic()


class KeysUnavailableError(Exception):
    """No snapshot of the keys exists yet and the database cannot give one."""


class AuthMiddleware:
    """Authenticates, authorises and rate-limits; the key's name becomes `request.state.actor`."""

    def __init__(self, app: ASGIApp, keyring: KeyRing, limiter: RateLimiter) -> None:
        self.app, self.keyring, self.limiter = app, keyring, limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        needed = required_scope(scope["method"], scope["path"])
        refusal = None if needed is None else await self._refusal(scope, needed)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _refusal(self, scope: Scope, needed: str) -> Any:
        token = token_from(scope["headers"])
        parsed = parse_token(token) if token else None
        if parsed is None:
            return error_response(401, "unauthenticated", "an API key is required",
                                  headers={"WWW-Authenticate": "Bearer"})
        try:
            key = await self.keyring.find(parsed[0])
        except KeysUnavailableError as exc:
            return error_response(503, "auth_unavailable", str(exc), headers={"Retry-After": "5"})
        if key is None or not key.matches(parsed[1]):
            return error_response(401, "unauthenticated", "unknown or revoked API key",
                                  headers={"WWW-Authenticate": "Bearer"})
        if needed not in key.scopes:
            return error_response(403, "forbidden", f"this key lacks the {needed!r} scope",
                                  {"required_scope": needed, "key_scopes": sorted(key.scopes)})
        if wait_s := self.limiter.check(key.key_id, needed):
            return error_response(429, "rate_limited", f"rate limit of the {needed!r} scope reached",
                                  {"scope": needed, "retry_after_s": round(wait_s, 3)},
                                  headers={"Retry-After": str(max(1, round(wait_s + 0.5)))})
        scope.setdefault("state", {}).update(actor=key.name, api_key_id=key.key_id)
        return None


def install_auth(app: Any, settings: Settings) -> None:
    """One middleware for every route, so a router added later needs no auth code of its own."""
    if settings.api.auth == "disabled":
        log.warning("api_auth_disabled")
        return
    pg = settings.postgres
    store = ApiKeyStore(pg.conninfo(), pg.schema_name) if not pg.embedded else None
    keyring = KeyRing(store.active if store else dict, settings.api.key_cache_s)
    limiter = RateLimiter(settings.api.rate_limits.model_dump(), settings.api.rate_burst_s)
    app.add_middleware(AuthMiddleware, keyring=keyring, limiter=limiter)


def install_cors(app: Any, settings: Settings) -> None:
    """Closed by default: browsers on other origins get no CORS headers unless listed."""
    origins = settings.api.cors_origin_list
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "X-API-Key", "Content-Type",
                                          "X-Correlation-ID"], expose_headers=["X-Correlation-ID"])


def document_api_keys(app: Any) -> None:
    """Declares the key schemes in the OpenAPI spec on every non-public operation, so clients
    and schema-driven tests know which routes need a key."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        spec: dict[str, Any] = original()
        schemes = spec.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes["bearer"] = {"type": "http", "scheme": "bearer", "description": "pdm_<id>_<secret>"}
        schemes["apiKey"] = {"type": "apiKey", "in": "header", "name": "X-API-Key"}
        for path, operations in spec.get("paths", {}).items():
            for method, operation in operations.items():
                if required_scope(method.upper(), path) is not None:
                    operation["security"] = [{"bearer": []}, {"apiKey": []}]
        return spec

    app.openapi = openapi
