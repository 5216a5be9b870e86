"""Read-side fixtures: the alerting fixtures, a simulated run of alert lifecycles, table dumps."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import psycopg
import pytest

from pdm.api.app import create_app
from pdm.domain.application import PdmApplication
from pdm.settings import Settings
from tests.integration.alerting.conftest import T0, domain, event_store, raise_alert
from tests.integration.conftest import grant_all_scopes

__all__ = ["domain", "event_store"]
READ_TABLES = ("rm_alerts", "rm_alert_sites", "rm_alert_timeline", "rm_asset_health",
               "rm_asset_health_alerts", "rm_fleet_summary", "rm_fleet_assets", "rm_fleet_alerts", "rm_models")


@pytest.fixture
async def api(event_store: Settings, domain: PdmApplication) -> AsyncIterator[httpx.AsyncClient]:
    """The real ASGI app (no lifespan under ASGITransport): its domain set, its read pool closed here."""
    app = create_app(event_store)
    app.state.domain = domain
    headers = grant_all_scopes(event_store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                 headers=headers) as client:
        yield client
    if getattr(app.state, "read_pool", None) is not None:
        await app.state.read_pool.close()


@pytest.fixture
def db(event_store: Settings) -> Iterator[psycopg.Connection[Any]]:
    pg = event_store.postgres
    with psycopg.connect(pg.conninfo(), options=f"-c search_path={pg.schema_name}", autocommit=True) as conn:
        yield conn


def simulate_run(domain: PdmApplication, assets: int = 6, alerts_per_asset: int = 3, prefix: str = "pump") -> list[Any]:
    """Alerts on several assets and sites; some escalated, acknowledged, resolved, re-raised."""
    for n in range(assets):
        domain.register_asset(f"{prefix}-{n}", f"plant-{n % 2}", "pump", {}, actor="ops", correlation_id="t")
    ids = []
    for n in range(assets):
        for k in range(alerts_per_asset):
            at = T0 + timedelta(minutes=10 * k + n)
            alert_id = raise_alert(domain, f"{prefix}-{n}", anomaly_id=f"{prefix}-{n}-{k}", at=at).alert_id
            raise_alert(domain, f"{prefix}-{n}", anomaly_id=f"{prefix}-{n}-{k}-b", at=at + timedelta(seconds=30), score=0.95)
            ids.append(alert_id)
            if (n + k) % 3 == 0:
                domain.acknowledge_alert(alert_id, "alice", f"looking {n}/{k}", actor="alice", correlation_id="t")
            if k < alerts_per_asset - 1:
                domain.resolve_alert(alert_id, "bob", "fixed", (n + k) % 2 == 0, actor="bob", correlation_id="t")
    return ids


def dump(conn: psycopg.Connection[Any], table: str) -> list[tuple[Any, ...]]:
    return conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()


__all__ += ["T0", "dump", "simulate_run"]
