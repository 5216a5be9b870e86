"""`pdm keys create|list|revoke`: API keys, printed once at creation and stored only hashed."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pdm.cli.common import err_console, fail, service_settings
from pdm.infra.api_keys import SCOPES, ApiKeyStore, UnknownScopeError
from pdm.infra.database import DatabaseUnavailableError
from pdm.infra.stack import read_state
from pdm.settings import Settings

app = typer.Typer(no_args_is_help=True, help="Create, list and revoke API keys.")
console = Console(highlight=False)


def _store(settings: Settings) -> ApiKeyStore:
    """The configured database, or the embedded one a detached `pdm infra up` left running."""
    pg = settings.postgres
    if not pg.embedded:
        return ApiKeyStore(pg.conninfo(), pg.schema_name)
    endpoints = read_state(settings)
    if endpoints is None:
        fail("PDM_POSTGRES__URL is not set and no `pdm infra up` is running; under `pdm up`, "
             f"use the development key in {settings.data_dir / 'dev-api-key'}")
    return ApiKeyStore(endpoints.postgres_conninfo, pg.schema_name)


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Who uses the key; recorded as the actor of its commands.")],
    scope: Annotated[list[str], typer.Option("--scope", "-s", help=f"Repeatable: {', '.join(SCOPES)}.")],
) -> None:
    """Create a key and print it once: only its hash is stored, so it cannot be shown again.

    Example: [bold]pdm keys create plant-1-gateway --scope ingest[/]
    """
    settings = service_settings("keys")
    try:
        token, key = _store(settings).create(name, scope)
    except UnknownScopeError as exc:
        fail(str(exc))
    except DatabaseUnavailableError as exc:
        fail(str(exc))
    typer.echo(token)
    err_console.print(f"key {key.key_id} for {name!r} with scopes {sorted(key.scopes)}; "
                      "store it now, it is not shown again", style="dim")


@app.command("list")
def list_keys(
    revoked: Annotated[bool, typer.Option("--revoked", help="Include revoked keys.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """List keys by id, name and scopes (never the secrets, which are not stored).

    Example: [bold]pdm keys list --revoked[/]
    """
    settings = service_settings("keys")
    keys = _store(settings).list(include_revoked=revoked)
    if as_json:
        for key in keys:
            typer.echo(json.dumps({"key_id": key.key_id, "name": key.name, "scopes": sorted(key.scopes),
                                   "created_at": str(key.created_at), "revoked_at": key.revoked_at and
                                   str(key.revoked_at)}))
        return
    table = Table("key id", "name", "scopes", "created", "revoked")
    for key in keys:
        revoked = f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else ""
        table.add_row(key.key_id, key.name, " ".join(sorted(key.scopes)),
                      f"{key.created_at:%Y-%m-%d %H:%M}", revoked)
    console.print(table)


@app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The id shown by `pdm keys list`.")]) -> None:
    """Revoke a key; the API refuses it within PDM_API__KEY_CACHE_S seconds (5 by default).

    Example: [bold]pdm keys revoke 3f9a1c2b7d4e[/]
    """
    settings = service_settings("keys")
    if not _store(settings).revoke(key_id):
        fail(f"no key {key_id!r}", code=1)
    console.print(f"revoked {key_id}")
