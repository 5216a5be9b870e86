"""The `pdm` command: run the stack, its services, and its operations."""

from __future__ import annotations

import asyncio
import os

import typer

from pdm.cli import audit, operate, publish, simulate
from pdm.cli import bench as bench_commands
from pdm.cli import eval as eval_commands
from pdm.cli import infra as infra_commands
from pdm.cli import keys as keys_commands
from pdm.cli import projections as projections_commands
from pdm.cli import rollout as rollout_commands
from pdm.cli.common import fail, python, require_infrastructure, service_settings
from pdm.cli.replay import replay as replay_command
from pdm.cli.retrain import retrain as retrain_command
from pdm.eventstore import create_event_tables
from pdm.infra.broker import BrokerUnavailableError
from pdm.infra.database import DatabaseUnavailableError
from pdm.infra.migrations import MigrationError, migrate
from pdm.logs import get_logger

app = typer.Typer(
    name="pdm", no_args_is_help=True, add_completion=False, rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
    help="pdm: event-sourced predictive maintenance. Readings in; features, scores, alerts out.",
)
app.add_typer(infra_commands.app, name="infra")
app.add_typer(bench_commands.app, name="bench")
app.add_typer(keys_commands.app, name="keys")
app.add_typer(projections_commands.app, name="projections")
app.command("publish")(publish.publish)
app.command("simulate")(simulate.simulate)
app.command("audit")(audit.audit)
app.add_typer(operate.alerts, name="alerts")
app.add_typer(operate.assets, name="assets")
app.add_typer(operate.silences, name="silences")
app.command("replay")(replay_command)
app.command("retrain")(retrain_command)
app.command("eval")(eval_commands.eval_command)
app.add_typer(rollout_commands.app, name="rollout")
app.command("saga")(rollout_commands.saga)
log = get_logger("pdm.cli")


@app.command()
def up() -> None:
    """Start the whole stack: broker, database, migrations, and every service, supervised.

    Uses the embedded broker and PostgreSQL unless PDM_KAFKA__BOOTSTRAP_SERVERS or
    PDM_POSTGRES__URL name real ones. Ctrl-C stops everything.

    Example: [bold]pdm up[/]   then   [bold]curl localhost:8000/readyz[/]
    """
    from pdm.runtime.up import run_up

    settings = service_settings("up")
    try:
        asyncio.run(run_up(settings))
    except (BrokerUnavailableError, DatabaseUnavailableError, MigrationError) as exc:
        fail(str(exc))


@app.command("migrate")
def migrate_command() -> None:
    """Apply pending database migrations (forward only; refuses edited applied files).

    Example: [bold]PDM_POSTGRES__URL=postgresql://pdm:secret@db/pdm pdm migrate[/]
    """
    settings = service_settings("migrate")
    require_infrastructure(settings, "postgres")
    pg = settings.postgres
    try:
        applied = migrate(pg.conninfo(), pg.schema_name,
                          on_applied=lambda m: log.info("migration_applied", file=m.path.name),
                          reader_role=pg.reader_role)
        create_event_tables(pg)
    except DatabaseUnavailableError as exc:
        fail(f"{'PDM_POSTGRES__URL' if pg.url else 'PDM_POSTGRES__HOST'}: {exc}")
    except MigrationError as exc:
        fail(str(exc))
    log.info("migrations_current", applied_now=len(applied), schema=pg.schema_name)


@app.command()
def api() -> None:
    """Serve the HTTP API (uvicorn) on PDM_API__HOST:PDM_API__PORT.

    Example: [bold]PDM_API__PORT=8080 PDM_API__WORKERS=2 pdm api[/]
    """
    import uvicorn

    from pdm.api.app import create_app
    from pdm.api.connection_limit import connection_limit

    settings = service_settings("api")
    require_infrastructure(settings, "both")
    workers = settings.api.workers  # > 1: each worker process builds its own app from the environment
    app = create_app(settings) if workers == 1 else None
    limit = connection_limit(settings.api, app.state.metrics.connections_refused.inc if app else lambda: None)
    uvicorn.run(
        app or "pdm.api.app:app_from_environment",
        factory=workers > 1, workers=workers, host=settings.api.host, port=settings.api.port,
        log_config=None, access_log=False, loop="uvloop", http="httptools", **limit,
    )


@app.command()
def worker() -> None:
    """Run the Faust stream worker (readings → archive, features, scores, anomalies, DLQ).

    Example: [bold]PDM_WORKER__WEB_PORT=6067 pdm worker[/]   (health at /healthz)
    """
    settings = service_settings("worker")
    require_infrastructure(settings, "both")
    os.execv(python(), [python(), "-m", "streams", "worker"])


@app.command()
def projector() -> None:
    """Run the projector: read models from the event store, durable timers, no-data checks.

    Example: [bold]PDM_POSTGRES__URL=postgresql://pdm:secret@db/pdm pdm projector[/]
    """
    settings = service_settings("projector")
    require_infrastructure(settings, "postgres")
    os.execv(python(), [python(), "-m", "projections"])


if __name__ == "__main__":
    app()
