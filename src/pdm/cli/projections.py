"""`pdm projections status|rebuild`: where the read models stand, and rebuilding one."""

from __future__ import annotations

import json
import subprocess
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pdm.cli.common import fail, python, require_infrastructure, service_settings
from pdm.eventstore import open_application
from pdm.infra.database import connect
from pdm.readmodels.status import parked_events, projection_status

app = typer.Typer(help="Read models: status and rebuild.", no_args_is_help=True)
console = Console(highlight=False)
NAMES = ("alerts", "alert_timeline", "asset_health", "models")


@app.command("status")
def status(
    show_parked: Annotated[str | None, typer.Option("--parked", help="List its parked events.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """Position, lag behind the event store's head, last error and parked events per projection.

    Example: [bold]pdm projections status[/]   or   [bold]pdm projections status --parked alerts[/]
    """
    settings = service_settings("projections")
    require_infrastructure(settings, "postgres")
    pg = settings.postgres
    domain = open_application(pg)
    try:
        head = domain.recorder.max_notification_id() or 0
    finally:
        domain.close()
    with connect(pg.conninfo(), pg.schema_name, autocommit=True) as conn:
        rows = projection_status(conn, head)
        parked = parked_events(conn, show_parked) if show_parked else []
    if as_json:
        typer.echo(json.dumps({"head": head, "projections": [r.__dict__ for r in rows], "parked": parked},
                              default=str))
        return
    table = Table("projection", "position", "lag", "updated", "parked", "held", "last error",
                  title=f"log head {head}")
    for r in rows:
        table.add_row(r.projection, str(r.position), str(r.lag), f"{r.updated_at:%Y-%m-%d %H:%M:%S}",
                      str(r.parked), str(r.held), (r.last_error or "")[:60])
    console.print(table)
    for p in parked:
        console.print(f"{p['position']} {p['topic']} {p['originator_id']} {p['error'] or 'held'}")


@app.command("rebuild")
def rebuild(name: Annotated[str, typer.Argument(help=f"One of: {', '.join(NAMES)}.")]) -> None:
    """Rebuild a read model into fresh tables from position 0, then swap them in atomically.

    The API keeps serving the old tables until the swap. Example: [bold]pdm projections rebuild alerts[/]
    """
    if name not in NAMES:
        fail(f"unknown projection {name!r}; one of: {', '.join(NAMES)}")
    settings = service_settings("projections")
    require_infrastructure(settings, "postgres")
    with console.status(f"rebuilding {name}…"):
        done = subprocess.run([python(), "-m", "projections.admin", "rebuild", name],
                              capture_output=True, text=True, check=False)
    if done.returncode != 0:
        fail(f"rebuild failed: {done.stderr.strip()[-500:]}", code=1)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    console.print(f"{name}: rebuilt to position {result['position']} "
                  f"({result['events']} events in {result['seconds']} s, {result['events_per_s']} events/s); "
                  "swapped in")
