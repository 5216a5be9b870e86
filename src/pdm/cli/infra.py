"""`pdm infra up|down|status`: the embedded broker and database on their own, for development."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console
from rich.table import Table

from pdm.cli.common import fail, service_settings
from pdm.infra.broker import BrokerUnavailableError, check_kafka
from pdm.infra.database import DatabaseUnavailableError, check_postgres
from pdm.infra.stack import Stack, read_state, stop_detached, write_state

app = typer.Typer(no_args_is_help=True, help="Start, stop and inspect the development infrastructure.")
console = Console()


@app.command("up")
def infra_up() -> None:
    """Start the embedded broker and PostgreSQL in the background (kept until `pdm infra down`).

    Example: [bold]pdm infra up && pdm migrate[/]
    """
    settings = service_settings("infra")
    stack = Stack(settings, detached=True)
    try:
        endpoints = stack.start()
    except (BrokerUnavailableError, DatabaseUnavailableError) as exc:
        fail(str(exc))
    write_state(settings, endpoints)
    for key, value in endpoints.child_env().items():
        console.print(f"export {key}='{value}'", highlight=False, soft_wrap=True)


@app.command("down")
def infra_down() -> None:
    """Stop what `pdm infra up` started.  Example: [bold]pdm infra down[/]"""
    settings = service_settings("infra")
    console.print("stopped" if stop_detached(settings) else "nothing was running")


@app.command("status")
def infra_status() -> None:
    """Show where the broker and database are and whether they answer.  Example: [bold]pdm infra status[/]"""
    settings = service_settings("infra")
    state = read_state(settings)
    kafka = settings.kafka.bootstrap_servers or (state.bootstrap_servers if state else None)
    pg = settings.postgres.conninfo() if not settings.postgres.embedded else (
        state.postgres_conninfo if state else None)
    table = Table("component", "where", "status")
    table.add_row("broker", str(kafka or "-"), _probe_kafka(kafka))
    table.add_row("postgres", _hide_password(pg), _probe_pg(pg, settings.postgres.schema_name))
    console.print(table)


def _probe_kafka(bootstrap: str | None) -> str:
    if bootstrap is None:
        return "not running"
    try:
        asyncio.run(check_kafka(bootstrap, timeout=3))
    except BrokerUnavailableError as exc:
        return f"[red]{exc}[/]"
    return "[green]up[/]"


def _probe_pg(conninfo: str | None, schema: str) -> str:
    if conninfo is None:
        return "not running"
    try:
        check_postgres(conninfo, schema)
    except DatabaseUnavailableError as exc:
        return f"[red]{exc}[/]"
    return "[green]up[/]"


def _hide_password(conninfo: str | None) -> str:
    from pdm.logs import SECRET_IN_TEXT, _mask_match

    return SECRET_IN_TEXT.sub(_mask_match, conninfo) if conninfo else "-"
