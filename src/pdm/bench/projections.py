"""`pdm bench projections`: rebuild throughput beside the library's per-event runner and a raw log read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from functools import singledispatchmethod
from typing import Annotated, Any

import typer
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from psycopg import sql
from rich.console import Console
from rich.table import Table

from pdm.bench.events import T0, WHO, scratch_postgres
from pdm.domain.alerts import Alert
from pdm.domain.application import PdmApplication
from pdm.domain.audit import Audit
from pdm.eventstore import event_store_env, open_application
from pdm.infra.database import connect
from pdm.settings import ConfigurationError, PostgresSettings, load_settings

console = Console(highlight=False, width=max(Console().width, 120))
READ_MODELS = ("alerts", "alert_timeline", "asset_health", "models")
LIBRARY_SECONDS = 5.0


def projections(
    events: Annotated[int, typer.Option(help="Events in the log to rebuild from.")] = 100_000,
) -> None:
    """Example: [bold]pdm bench projections --events 100000[/]"""
    try:
        configured = load_settings().postgres
    except ConfigurationError as exc:
        raise typer.Exit(2) from exc
    with scratch_postgres(configured) as pg:
        total = fill(pg, events)
        rows = [raw_read(pg), *[rebuild(pg, name) for name in READ_MODELS], library_runner(pg)]
    table = Table("what", "events", "seconds", "events/s", title=f"{total} events in the log")
    for what, count, seconds in rows:
        table.add_row(what, str(count), f"{seconds:.2f}", f"{count / seconds:,.0f}")
    console.print(table)


def fill(pg: PostgresSettings, events: int) -> int:
    """Alerts of ~50 events each (anomalies, acknowledge, resolve), one transaction per alert."""
    app = open_application(pg)
    try:
        for n in range(max(events // 50, 1)):
            alert = Alert(f"asset-{n % 10_000}", "vibration", n, "warning", 0.9, 0.8, "m-1", T0, f"a-{n}",
                          **WHO)
            audit = Audit(**WHO)
            for k in range(47):
                alert.record_anomaly(f"a-{n}-{k}", 0.9 + k / 1000, T0 + timedelta(seconds=k), audit)
            alert.acknowledge("ops", "on it", audit)
            alert.resolve("ops", "fixed", n % 2 == 0, audit)
            app.save(alert)
        return int(app.recorder.max_notification_id() or 0)
    finally:
        app.close()


def raw_read(pg: PostgresSettings) -> tuple[str, int, float]:
    app = open_application(pg)
    try:
        started, position, count = time.perf_counter(), 0, 0
        while notifications := app.recorder.select_notifications(position + 1, 5000):
            count += len([app.mapper.to_domain_event(n) for n in notifications])
            position = notifications[-1].id
        return "raw: notification log read + decode", count, time.perf_counter() - started
    finally:
        app.close()


def rebuild(pg: PostgresSettings, name: str) -> tuple[str, int, float]:
    """In its own process (what `pdm projections rebuild` runs), tables swapped in at the end."""
    env = {**os.environ, "PDM_POSTGRES__URL": pg.conninfo(), "PDM_POSTGRES__SCHEMA_NAME": pg.schema_name}
    done = subprocess.run([sys.executable, "-m", "projections.admin", "rebuild", name], env=env,
                          capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return f"pdm: rebuild {name} (batches of 5,000)", result["events"], result["seconds"]


class LibraryView(PostgresTrackingRecorder):
    def upsert(self, alert_id: Any, state: str, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(sql.SQL("INSERT INTO {}.bench_library_alerts VALUES (%s, %s) ON CONFLICT (alert_id) "
                                 "DO UPDATE SET state = EXCLUDED.state").format(
                sql.Identifier(self.datastore.schema)), (alert_id, state))
            self._insert_tracking(curs, tracking)


class LibraryAlerts(Projection[LibraryView]):
    name = "libraryalerts"
    topics = ()

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.upsert(domain_event.originator_id, type(domain_event).__name__, tracking)


def library_runner(pg: PostgresSettings) -> tuple[str, int, float]:
    """The library's own runner, one transaction per event; run for a fixed time, not to the end."""
    with connect(pg.conninfo(), pg.schema_name, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_library_alerts (alert_id uuid PRIMARY KEY, state text)")
    env = event_store_env(pg, create_table=True)
    runner = ProjectionRunner(application_class=PdmApplication, projection_class=LibraryAlerts,
                              view_class=LibraryView, env=env)
    started = time.perf_counter()
    try:
        runner.run_forever(timeout=LIBRARY_SECONDS)  # re-raises the runner thread's error, if any
        done = runner.view.max_tracking_id(PdmApplication.name) or 0
        seconds = time.perf_counter() - started
    finally:
        runner.stop()
    return "library: ProjectionRunner, 1 txn per event", int(done), seconds
