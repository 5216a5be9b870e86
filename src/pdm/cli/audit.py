"""`pdm audit ALERT_ID`: an alert's full history, every event with when, who and why."""

from __future__ import annotations

import json
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table

from pdm.alerting.history import HistoryEntry, alert_history, plain
from pdm.cli.common import fail, require_infrastructure, service_settings
from pdm.domain.alerts import Alert
from pdm.domain.errors import AlertNotFoundError
from pdm.eventstore import open_application

console = Console(highlight=False)
if not console.is_terminal:  # piped: no terminal to fit, so do not fold ids into 80 columns
    console = Console(highlight=False, width=200)


def audit(
    alert: Annotated[str, typer.Argument(help="Alert id (UUID), or ASSET/KIND/EPISODE.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array instead of a table.")] = False,
) -> None:
    """Print every event of one alert: recorded time, type, actor, correlation id and fields.

    Example: [bold]pdm audit pump-7/vibration/1[/]   or   [bold]pdm audit <alert-uuid> --json[/]
    """
    settings = service_settings("audit")
    require_infrastructure(settings, "postgres")
    alert_id = _alert_id(alert)
    app = open_application(settings.postgres)
    try:
        entries = alert_history(app, alert_id)
    except AlertNotFoundError:
        fail(f"no alert {alert} ({alert_id})", code=1)
    finally:
        app.close()
    if as_json:
        typer.echo(json.dumps([e.as_json() for e in entries], indent=2))
    else:
        console.print(history_table(alert_id, entries))


def _alert_id(text: str) -> UUID:
    """An alert id is derived from asset, kind and episode, so people can name it that way."""
    try:
        return UUID(text)
    except ValueError:
        pass
    asset_id, _, rest = text.partition("/")
    kind, _, episode = rest.rpartition("/")
    if not (asset_id and kind and episode.isdigit()):
        fail(f"{text!r}: expected an alert UUID or ASSET/KIND/EPISODE, e.g. pump-7/vibration/1")
    return Alert.create_id(asset_id, kind, int(episode))


def history_table(alert_id: UUID, entries: list[HistoryEntry]) -> Table:
    table = Table(title=f"alert {alert_id}", title_justify="left")
    for header in ("v", "recorded at (UTC)", "event", "actor", "correlation id", "fields"):
        table.add_column(header, overflow="fold")
    for e in entries:
        fields = ", ".join(f"{k}={json.dumps(plain(v))}" for k, v in e.fields.items())
        table.add_row(str(e.version), e.recorded_at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3], e.type,
                      e.actor, e.correlation_id, fields)
    return table
