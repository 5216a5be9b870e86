"""`pdm bench events`: alert commands/s and event-store appends/s beside raw eventsourcing appends."""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import psycopg
import typer
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from psycopg import sql
from rich.console import Console
from rich.table import Table

from pdm.domain.application import PdmApplication
from pdm.eventstore import create_event_tables, event_store_env
from pdm.infra.database import start_embedded_postgres, stop_embedded_postgres
from pdm.infra.migrations import migrate
from pdm.settings import ConfigurationError, PostgresSettings, load_settings

console = Console(highlight=False, width=max(Console().width, 120))
T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
WHO = {"actor": "bench", "correlation_id": "bench"}


class Tally(Aggregate):
    """The raw baseline's aggregate: as little domain as an event can carry."""

    @event("Counted")
    def count(self) -> None:
        pass


class RawApplication(Application[uuid.UUID]):
    name = "rawbench"


@dataclass(frozen=True)
class Figure:
    what: str
    commands: int
    events: int
    seconds: float

    @property
    def commands_per_s(self) -> float:
        return self.commands / self.seconds

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds


def events(
    alerts: Annotated[int, typer.Option(min=100, help="Alerts per phase.")] = 1000,
    threads: Annotated[int, typer.Option(min=1, max=32, help="Writers in the parallel phase.")] = 4,
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write the figures here.")] = None,
) -> None:
    """Alert commands/s through PdmApplication on PostgreSQL, and events appended/s, beside a raw
    eventsourcing baseline (a trivial aggregate, ~50 events per transaction and 1 per transaction)
    measured in the same run on the same database.

    Uses PDM_POSTGRES__URL if set, else an embedded PostgreSQL; works in a scratch schema it drops.

    Example: [bold]pdm bench events --alerts 2000 --threads 4 --json events.json[/]
    """
    try:
        base = load_settings()
    except ConfigurationError as exc:
        raise typer.BadParameter(str(exc)) from None
    with scratch_postgres(base.postgres) as pg:
        figures = run(pg, alerts, threads)
    console.print(figures_table(figures))
    if json_path:
        rows = [asdict(f) | {"commands_per_s": f.commands_per_s, "events_per_s": f.events_per_s}
                for f in figures]
        json_path.write_text(json.dumps({"figures": rows, "cores": os.cpu_count(),
                                         "python": platform.python_version()}, indent=2))


def run(pg: PostgresSettings, alerts: int, threads: int) -> list[Figure]:
    env = event_store_env(pg, create_table=True)
    raw = RawApplication(env=env)
    app = PdmApplication(env=env)
    try:
        return [
            timed("raw: 50 events per transaction", alerts // 5, lambda n: raw.save(tally(50)), per=50),
            timed("raw: 1 event per transaction", alerts, lambda n: raw.save(tally(1)), per=1),
            *alert_lifecycle(app, alerts),
            parallel(app, alerts, threads),
        ]
    finally:
        raw.close()
        app.close()


def tally(events_per_save: int) -> Tally:
    aggregate = Tally()
    for _ in range(events_per_save - 1):
        aggregate.count()
    return aggregate


def timed(what: str, count: int, step: Callable[[int], object], per: int | None = None,
          app: PdmApplication | None = None) -> Figure:
    """Events counted from the log's position when an app is given (commands record 0 to 3 each)."""
    before = app.position() if app else 0
    started = time.perf_counter()
    for n in range(count):
        step(n)
    seconds = time.perf_counter() - started
    appended = app.position() - before if app else count * (per or 1)
    return Figure(what, count, appended, seconds)


def alert_lifecycle(app: PdmApplication, alerts: int) -> list[Figure]:
    """One alert per asset, so each phase is what production sees: no lost races."""
    ids: list[uuid.UUID] = []

    def raise_one(n: int) -> None:
        result = app.apply_anomaly(f"a-{n}", f"asset-{n}", "vibration", 0.9, 0.8, "m-1", T0, **WHO)
        assert result.alert_id is not None
        ids.append(result.alert_id)

    def update(n: int) -> None:
        app.apply_anomaly(f"b-{n}", f"asset-{n}", "vibration", 0.95, 0.8, "m-1", T0 + timedelta(minutes=1),
                          **WHO)

    return [
        timed("pdm: raise alert (new asset)", alerts, raise_one, app=app),
        timed("pdm: anomaly on open alert", alerts, update, app=app),
        timed("pdm: acknowledge", alerts, lambda n: app.acknowledge_alert(ids[n], "ops", "", **WHO), app=app),
        timed("pdm: resolve", alerts,
              lambda n: app.resolve_alert(ids[n], "ops", "fixed", n % 2 == 0, **WHO), app=app),
    ]


def parallel(app: PdmApplication, alerts: int, threads: int) -> Figure:
    """Writers on distinct assets; the library serialises inserts with a table lock."""
    before, started = app.position(), time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda n: app.apply_anomaly(f"p-{n}", f"par-{n}", "vibration", 0.9, 0.8, "m-1", T0,
                                                  **WHO), range(alerts)))
    seconds = time.perf_counter() - started
    return Figure(f"pdm: raise alert, {threads} threads", alerts, app.position() - before, seconds)


def figures_table(figures: list[Figure]) -> Table:
    baseline = next(f for f in figures if f.what == "raw: 1 event per transaction")
    table = Table(title=f"pdm bench events — {os.cpu_count()} cores, Python {platform.python_version()}",
                  title_justify="left")
    bulk = figures[0]
    for header in ("path", "txn/s", "events/s", "events/txn", "txn/s ÷ raw 1/txn", "events/s ÷ raw 50/txn"):
        table.add_column(header, justify="left" if header == "path" else "right")
    for f in figures:
        table.add_row(f.what, f"{f.commands_per_s:,.0f}", f"{f.events_per_s:,.0f}",
                      f"{f.events / f.commands:.1f}", f"{f.commands_per_s / baseline.commands_per_s:.0%}",
                      f"{f.events_per_s / bulk.events_per_s:.0%}")
    table.caption = "pdm rows: one command = one transaction; txn/s is commands/s"
    return table


@contextmanager
def scratch_postgres(configured: PostgresSettings) -> Iterator[PostgresSettings]:
    """A schema of its own on the configured server, or an embedded server of its own."""
    with ExitStack() as stack:
        conninfo = configured.conninfo() if not configured.embedded else ""
        if not conninfo:
            data_dir = Path(tempfile.mkdtemp(prefix="pdm-bench-events-")) / "postgres"
            stack.callback(shutil.rmtree, data_dir.parent, True)
            conninfo = start_embedded_postgres(data_dir)
            stack.callback(stop_embedded_postgres, data_dir)
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        stack.callback(_drop_schema, conninfo, schema)
        migrate(conninfo, schema)
        pg = PostgresSettings(url=conninfo, schema_name=schema)  # type: ignore[arg-type]
        create_event_tables(pg)
        yield pg


def _drop_schema(conninfo: str, schema: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
