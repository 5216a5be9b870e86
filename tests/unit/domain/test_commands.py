"""Commands are frozen, validated intents, and the handler table routes every one of them."""

from __future__ import annotations

import inspect
from datetime import datetime
from uuid import uuid4

import pytest
from pydantic import ValidationError

from pdm.domain import commands as c
from pdm.domain.alert_service import AnomalyResult
from pdm.domain.alerts import AlertState
from pdm.domain.anomalies import AnomalyOutcome
from pdm.domain.application import HANDLERS, PdmApplication
from pdm.domain.assets import ChannelSpec
from tests.unit.domain.conftest import AUDIT, T0, WORKER, Who, alert_of

pytestmark = pytest.mark.unit


def test_every_command_has_a_handler() -> None:
    declared = {
        cls
        for cls in vars(c).values()
        if isinstance(cls, type) and issubclass(cls, c.Command) and cls is not c.Command
    }

    routed = set(HANDLERS)

    assert declared == routed


@pytest.mark.parametrize("command", list(HANDLERS), ids=lambda cls: cls.__name__)
def test_each_commands_fields_are_its_handlers_parameters(command: type[c.Command]) -> None:
    handler = getattr(PdmApplication, HANDLERS[command])

    params = set(inspect.signature(handler).parameters) - {"self"}

    required = {
        n for n, p in inspect.signature(handler).parameters.items() if p.default is p.empty and n != "self"
    }
    assert required <= set(command.model_fields) <= params


def test_a_command_is_frozen() -> None:
    command = c.AcknowledgeAlert(alert_id=uuid4(), by="alice", **AUDIT)

    with pytest.raises(ValidationError):
        command.by = "mallory"


def test_a_naive_datetime_is_refused() -> None:
    naive = datetime(2026, 11, 21, 10, 0)

    with pytest.raises(ValidationError):
        c.DecommissionAsset(asset_id="pump-7", reason="x", at=naive, **AUDIT)


def test_a_command_without_an_actor_is_refused() -> None:
    nobody: Who = {"actor": "", "correlation_id": "req-1"}

    with pytest.raises(ValidationError):
        c.RegisterAsset(asset_id="pump-7", site="plant-1", kind="pump", **nobody)


def test_handling_commands_drives_the_application(app: PdmApplication) -> None:
    app.handle(
        c.RegisterAsset(
            asset_id="pump-7",
            site="plant-1",
            kind="pump",
            channels={"vibration_rms": ChannelSpec("g", high=1.0)},
            **AUDIT,
        )
    )
    raised = app.handle(
        c.ApplyAnomaly(
            anomaly_id="an-1",
            asset_id="pump-7",
            kind="vibration",
            score=0.9,
            threshold=0.8,
            model_version="m-1",
            detected_at=T0,
            **WORKER,
        )
    )
    assert isinstance(raised, AnomalyResult) and raised.alert_id is not None

    position = app.handle(c.AcknowledgeAlert(alert_id=raised.alert_id, by="alice", **AUDIT))

    assert raised.outcome is AnomalyOutcome.RAISED
    assert position == app.recorder.max_notification_id()
    assert app.get_alert(alert_of(raised)).state is AlertState.ACKNOWLEDGED
