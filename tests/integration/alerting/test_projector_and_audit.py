"""The projector as a process and `pdm audit` as a command, on real PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from pdm.cli.main import app as pdm_cli
from pdm.domain.application import PdmApplication
from pdm.settings import Settings
from tests.conftest import settings_env
from tests.integration.alerting.conftest import raise_alert
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.integration


def tracked_position(settings: Settings) -> int:
    with psycopg.connect(settings.postgres.conninfo(),
                         options=f"-c search_path={settings.postgres.schema_name}") as conn:
        row = conn.execute("SELECT position FROM projection_tracking "
                           "WHERE projection = 'alert_timers'").fetchone()
    return int(row[0]) if row else 0


def test_the_projector_process_catches_up_and_resumes_after_sigkill(
    event_store: Settings, domain: PdmApplication, tmp_path: Path
) -> None:
    raise_alert(domain)
    log = (tmp_path / "projector.log").open("ab")
    command = [sys.executable, "-m", "projections"]

    first = subprocess.Popen(command, env=settings_env(event_store), stdout=log, stderr=log)
    wait_until(lambda: tracked_position(event_store) == domain.position(), 30, "first catch-up")
    first.kill()
    first.wait(10)
    raise_alert(domain, "fan-2", anomaly_id="a-2")
    second = subprocess.Popen(command, env=settings_env(event_store), stdout=log, stderr=log)
    try:
        wait_until(lambda: tracked_position(event_store) == domain.position(), 30, "catch-up after kill")
    finally:
        second.terminate()
        assert second.wait(20) == 0


def test_audit_prints_every_event_with_actor_and_correlation_id(
    event_store: Settings, domain: PdmApplication
) -> None:
    alert_id = raise_alert(domain).alert_id
    domain.acknowledge_alert(alert_id, "alice", "looking", actor="alice", correlation_id="req-9")
    env = settings_env(event_store)

    as_json = CliRunner().invoke(pdm_cli, ["audit", "pump-7/vibration/1", "--json"], env=env)
    as_table = CliRunner().invoke(pdm_cli, ["audit", str(alert_id)], env=env)
    unknown = CliRunner().invoke(pdm_cli, ["audit", "pump-7/vibration/2"], env=env)

    assert as_json.exit_code == 0, as_json.output
    history = json.loads(as_json.stdout)
    assert [(h["type"], h["actor"], h["correlation_id"]) for h in history] == [
        ("Raised", "stream-worker", "test"), ("Acknowledged", "alice", "req-9")]
    assert as_table.exit_code == 0 and "Acknowledged" in as_table.stdout and "req-9" in as_table.stdout
    assert unknown.exit_code == 1
