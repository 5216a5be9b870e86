"""A projector process killed with SIGKILL mid-catch-up resumes with nothing lost or doubled."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pdm.domain.application import PdmApplication
from pdm.settings import Settings
from projections.parking import ParkingRunner
from projections.rebuild import rebuild
from projections.registry import READ_MODELS
from tests.conftest import settings_env
from tests.integration.conftest import wait_until
from tests.integration.readside.conftest import dump, simulate_run

pytestmark = pytest.mark.integration
KILLED = ("alerts", "alert_timeline", "asset_health")
TABLES = ("rm_alerts", "rm_alert_sites", "rm_alert_timeline", "rm_asset_health", "rm_asset_health_alerts")


@pytest.fixture
def projector(event_store: Settings, tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def start(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "projections"], env=settings_env(settings),
                                stdout=out, stderr=out)


def positions(db: psycopg.Connection[Any]) -> dict[str, int]:
    rows = db.execute("SELECT projection, position FROM projection_tracking WHERE projection = ANY(%s)",
                      (list(KILLED),)).fetchall()
    return {name: int(position) for name, position in rows}


def kill_mid_catch_up(proc: subprocess.Popen[bytes], db: psycopg.Connection[Any], head: int,
                      beyond: int) -> int:
    """SIGKILL as soon as some projection moved past `beyond` while another is still behind the head."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        seen = positions(db)
        moved = max(seen.values(), default=0)
        if moved > beyond and min(seen.get(name, 0) for name in KILLED) < head:
            proc.kill()
            proc.wait(10)
            return moved
        time.sleep(0.01)
    raise AssertionError("the projector never got mid-way")


def test_a_projector_killed_mid_batch_resumes_with_nothing_lost_or_doubled(
    event_store: Settings, domain: PdmApplication, db: psycopg.Connection[Any],
    projector: list[subprocess.Popen[bytes]], tmp_path: Path,
) -> None:
    simulate_run(domain, assets=60, alerts_per_asset=4)
    head = domain.recorder.max_notification_id()
    log = tmp_path / "projector.log"
    reached = 0
    for _ in range(3):
        projector.append(start(event_store, log))
        reached = kill_mid_catch_up(projector[-1], db, head, reached)

    projector.append(start(event_store, log))
    wait_until(lambda: len(positions(db)) == 3 and min(positions(db).values()) >= head, 60,
               "the restarted projector caught up")
    # The projector also fires due timers: once the wall clock is 30 min past the simulated alerts,
    # it appends re-notifications. Stop it, then bring the resumed tables to the final head with the
    # same runner (no timers), so both sides below fold the same events.
    projector[-1].kill()
    projector[-1].wait(10)
    ParkingRunner(domain, db, [READ_MODELS[name]() for name in KILLED]).catch_up()
    head = domain.recorder.max_notification_id()
    resumed = {table: dump(db, table) for table in TABLES}
    for name in KILLED:
        rebuild(domain, db, name)

    assert {table: dump(db, table) for table in TABLES} == resumed
    assert len(resumed["rm_alerts"]) == 60 * 4
    alert_events = [n for n in domain.recorder.select_notifications(1, head) if ".alerts:Alert." in n.topic]
    assert len(resumed["rm_alert_timeline"]) == len(alert_events)
