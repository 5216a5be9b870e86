"""Alerting fixtures: a migrated schema with the event store, the domain on it, the API over it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from pdm.api.app import create_app
from pdm.domain.alert_service import AnomalyResult
from pdm.domain.application import PdmApplication
from pdm.eventstore import create_event_tables, open_application
from pdm.infra.migrations import migrate
from pdm.settings import Settings

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
WORKER = {"actor": "stream-worker", "correlation_id": "test"}


@pytest.fixture
def event_store(settings: Settings) -> Settings:
    """What `pdm migrate` prepares: pdm's tables and the library's event tables."""
    migrate(settings.postgres.conninfo(), settings.postgres.schema_name)
    create_event_tables(settings.postgres)
    # The fixtures' anomalies are dated at T0, a fixed day: a paging horizon that reaches back to it
    # whatever today is, so they page instead of being recorded as history.
    horizon = max(settings.worker.page_horizon_s, (datetime.now(UTC) - T0).total_seconds() + 86_400)
    return settings.model_copy(update={"worker": settings.worker.model_copy(update={"page_horizon_s": horizon})})


@pytest.fixture
def domain(event_store: Settings) -> Iterator[PdmApplication]:
    app = open_application(event_store.postgres)
    yield app
    app.close()


@pytest.fixture
async def api(event_store: Settings, domain: PdmApplication,
              auth_headers: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """The real ASGI app; its domain is set here because ASGITransport runs no lifespan."""
    app = create_app(event_store)
    app.state.domain = domain
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test",
                                 headers=auth_headers) as client:
        yield client


def raise_alert(domain: PdmApplication, asset_id: str = "pump-7", anomaly_id: str = "a-1",
                at: datetime = T0, **kw: Any) -> AnomalyResult:
    fields: dict[str, Any] = {"kind": "vibration", "score": 0.9, "threshold": 0.8, "model_version": "m-1"}
    fields.update(kw)
    return domain.apply_anomaly(anomaly_id, asset_id, detected_at=at, **fields, **WORKER)


def events_of(domain: PdmApplication, aggregate_id: Any, name: str | None = None) -> list[Any]:
    events = list(domain.events.get(aggregate_id))
    return [e for e in events if name is None or type(e).__name__ == name]
