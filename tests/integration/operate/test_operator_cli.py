"""Operators drive alerts and assets from the command line, with the same rules as over HTTP."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime

import pytest

from pdm.domain.alerts import Alert
from pdm.eventstore import create_event_tables, open_application
from pdm.infra.migrations import migrate
from pdm.settings import Settings
from tests.conftest import settings_env

pytestmark = pytest.mark.integration


def pdm(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pdm", *args], env=settings_env(settings),
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def event_store(settings: Settings) -> Settings:
    migrate(settings.postgres.conninfo(), settings.postgres.schema_name)
    create_event_tables(settings.postgres)
    return settings


def test_an_alert_is_acknowledged_and_resolved_from_the_cli_and_a_second_resolve_is_refused(
    event_store: Settings,
) -> None:
    app = open_application(event_store.postgres)
    app.apply_anomaly(str(uuid.uuid4()), "pump-9", "vibration", 0.9, 0.5, "m1", datetime.now(UTC),
                      actor="stream-worker", correlation_id="test")
    app.close()

    registered = pdm(event_store, "assets", "register", "pump-9", "--site", "north", "--kind", "pump",
                     "--channel", "vibration_rms:mm/s:0:8")
    acked = pdm(event_store, "alerts", "acknowledge", "pump-9/vibration/1", "--by", "ana", "--note", "on it")
    resolved = pdm(event_store, "alerts", "resolve", "pump-9/vibration/1", "--by", "ana",
                   "--resolution", "bearing replaced", "--fault")
    again = pdm(event_store, "alerts", "resolve", "pump-9/vibration/1", "--by", "bo",
                "--resolution", "again", "--no-fault")

    assert registered.returncode == 0, registered.stderr
    assert acked.returncode == 0 and "position" in acked.stdout, acked.stderr
    assert resolved.returncode == 0, resolved.stderr
    assert again.returncode == 1 and again.stderr.count("\n") == 1 and "Traceback" not in again.stderr
    app = open_application(event_store.postgres)
    alert = app.get_alert(Alert.create_id("pump-9", "vibration", 1))
    app.close()
    assert alert.state.value == "resolved" and alert.fault_confirmed is True


def test_a_malformed_channel_is_refused_with_one_line(event_store: Settings) -> None:
    result = pdm(event_store, "assets", "register", "pump-9", "--site", "n", "--kind", "pump",
                 "--channel", "vibration_rms")

    assert result.returncode == 2
    assert "--channel 'vibration_rms': expected NAME:UNIT" in result.stderr
