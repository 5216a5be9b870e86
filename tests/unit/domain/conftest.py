"""Fixtures for domain tests: an in-memory application and a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict
from uuid import UUID

import pytest

from pdm.domain.alert_service import AnomalyResult
from pdm.domain.application import PdmApplication
from pdm.domain.assets import ChannelSpec
from pdm.domain.audit import Audit


class Who(TypedDict):
    """Audit keyword arguments, typed so `**AUDIT` checks against command signatures."""

    actor: str
    correlation_id: str


T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
AUDIT: Who = {"actor": "api-key:ops", "correlation_id": "req-1"}
BY_OPS = Audit(**AUDIT)
WORKER: Who = {"actor": "service:stream-worker", "correlation_id": "readings/3/1042"}
CHANNELS = {"vibration_rms": ChannelSpec("g", 0.0, 1.0), "temperature_c": ChannelSpec("C")}


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


@pytest.fixture
def app() -> Iterator[PdmApplication]:
    application = PdmApplication(env={"PDM_PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield application
    application.close()


@pytest.fixture
def registered(app: PdmApplication) -> PdmApplication:
    app.register_asset("pump-7", "plant-1", "pump", CHANNELS, **AUDIT)
    return app


def anomaly(
    app: PdmApplication, anomaly_id: str, at: datetime = T0, score: float = 0.9, **kw: Any
) -> AnomalyResult:
    """An anomaly on pump-7 as the stream worker would apply it."""
    fields: dict[str, Any] = {
        "asset_id": "pump-7",
        "kind": "vibration",
        "threshold": 0.8,
        "model_version": "m-1",
    }
    fields.update(kw)
    return app.apply_anomaly(anomaly_id=anomaly_id, score=score, detected_at=at, **fields, **WORKER)


def alert_of(result: AnomalyResult) -> UUID:
    """The alert an anomaly raised or updated; failing here means it touched none."""
    assert result.alert_id is not None
    return result.alert_id
