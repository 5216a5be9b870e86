"""A migrated schema with the event store, keys of chosen scopes, and the real app over it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from pdm.api.app import create_app
from pdm.domain.application import PdmApplication
from pdm.eventstore import create_event_tables, open_application
from pdm.infra.api_keys import SCOPES, ApiKeyStore
from pdm.infra.migrations import migrate
from pdm.settings import ApiSettings, Settings
from tests.integration.alerting.conftest import raise_alert

Client = Callable[..., httpx.AsyncClient]


@pytest.fixture
def domain(settings: Settings) -> Iterator[PdmApplication]:
    migrate(settings.postgres.conninfo(), settings.postgres.schema_name)
    create_event_tables(settings.postgres)
    app = open_application(settings.postgres)
    yield app
    app.close()


@pytest.fixture
def keys(settings: Settings, domain: PdmApplication) -> ApiKeyStore:
    return ApiKeyStore(settings.postgres.conninfo(), settings.postgres.schema_name)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def client(settings: Settings, domain: PdmApplication) -> AsyncIterator[Client]:
    """`client(**api_settings)`: the app with those API settings; revocations seen at once."""
    opened: list[httpx.AsyncClient] = []

    def build(**api: Any) -> httpx.AsyncClient:
        app = app_for(settings.model_copy(update={"api": ApiSettings(**{"key_cache_s": 0, **api})}), domain)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        opened.append(http)
        return http

    yield build
    for http in opened:
        await http.aclose()


def app_for(settings: Settings, domain: PdmApplication) -> FastAPI:
    app = create_app(settings)
    app.state.domain = domain  # ASGITransport runs no lifespan
    return app


def spec_operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path template, operation) for every operation the spec lists."""
    return [(method.upper(), path, operation)
            for path, operations in app.openapi()["paths"].items()
            for method, operation in operations.items()]


def fill(path: str, value: str) -> str:
    """The path template with every `{param}` replaced by `value`."""
    parts = [value if part.startswith("{") and part.endswith("}") else part for part in path.split("/")]
    return "/".join(parts)


@dataclass
class Prober:
    api: httpx.AsyncClient  # read rate unlimited
    headers: dict[str, str]  # a key with every scope
    gets: list[tuple[str, dict[str, Any]]]  # (path template, operation) of every GET under /v1/


@pytest.fixture
def prober(client: Client, keys: ApiKeyStore, settings: Settings, domain: PdmApplication) -> Prober:
    """What a hostile-input test needs: an alert to find, a key, and every GET route to attack."""
    raise_alert(domain)
    token, _ = keys.create("prober", list(SCOPES))
    gets = [(p, op) for m, p, op in spec_operations(app_for(settings, domain)) if m == "GET" and p.startswith("/v1/")]
    return Prober(client(rate_limits={"read": 0}), bearer(token), gets)
