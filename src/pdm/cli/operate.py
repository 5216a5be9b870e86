"""`pdm alerts|assets|silences …`: the operator commands of the HTTP API, from a terminal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from pdm.cli.audit import _alert_id
from pdm.cli.common import fail, require_infrastructure, service_settings
from pdm.domain.asset_values import ChannelSpec
from pdm.domain.errors import DomainError
from pdm.domain.silences import SilenceScope
from pdm.eventstore import open_application
from pdm.logs import new_correlation_id

alerts = typer.Typer(no_args_is_help=True, help="Acknowledge, resolve or suppress an alert.")
assets = typer.Typer(no_args_is_help=True, help="Register assets and record maintenance.")
silences = typer.Typer(no_args_is_help=True, help="Silence alerts of an asset or a site for a while.")
console = Console(highlight=False)
T = TypeVar("T")

By = Annotated[str, typer.Option("--by", help="Who does it; recorded as the actor of the event.")]
AlertRef = Annotated[str, typer.Argument(help="Alert id (UUID), or ASSET/KIND/EPISODE.")]


def _run(command: Callable[..., T], *args: Any, actor: str, **kwargs: Any) -> T:
    """One command against the event store; domain refusals end with their stable code."""
    settings = service_settings("cli")
    require_infrastructure(settings, "postgres")
    app = open_application(settings.postgres)
    try:
        return command(app, *args, actor=actor, correlation_id=f"cli:{new_correlation_id()}", **kwargs)
    except DomainError as exc:
        fail(f"{exc.code}: {exc}", code=1)
    finally:
        app.close()


def _done(position: int) -> None:
    console.print(f"ok, event-store position {position}")


@alerts.command("acknowledge")
def acknowledge(
    alert: AlertRef, by: By, note: Annotated[str, typer.Option(help="Why, for the audit.")] = ""
) -> None:
    """Acknowledge an open alert.

    Example: [bold]pdm alerts acknowledge pump-7/vibration/1 --by ana[/]
    """
    _done(_run(lambda app, **kw: app.acknowledge_alert(_alert_id(alert), by, note, **kw), actor=by))


@alerts.command("resolve")
def resolve(
    alert: AlertRef, by: By,
    resolution: Annotated[str, typer.Option(help="What was found and done.")],
    fault: Annotated[bool, typer.Option("--fault/--no-fault", help="Real fault found? (a training label)")],
) -> None:
    """Resolve an alert; --fault/--no-fault becomes a label for retraining.

    Example: [bold]pdm alerts resolve pump-7/vibration/1 --by ana --resolution "bearing replaced" --fault[/]
    """
    _done(_run(lambda app, **kw: app.resolve_alert(_alert_id(alert), by, resolution, fault, **kw), actor=by))


@alerts.command("suppress")
def suppress(
    alert: AlertRef, by: By, reason: Annotated[str, typer.Option(help="Why it is suppressed.")],
    until: Annotated[datetime, typer.Option(help="Until when (UTC if no offset).")],
) -> None:
    """Suppress an alert until a time.

    Example: [bold]pdm alerts suppress pump-7/vibration/1 --by ana --reason test --until 2026-11-22T06:00[/]
    """
    until_utc = _utc(until)
    _done(_run(lambda app, **kw: app.suppress_alert(_alert_id(alert), by, reason, until_utc, **kw), actor=by))


@assets.command("register")
def register(
    asset_id: Annotated[str, typer.Argument(help="The asset id readings carry.")],
    site: Annotated[str, typer.Option(help="Site or plant.")],
    kind: Annotated[str, typer.Option(help="Machine kind, e.g. pump.")],
    channel: Annotated[list[str], typer.Option(help="NAME:UNIT[:LOW:HIGH], repeatable.")],
    by: By = "cli",
) -> None:
    """Register an asset with its channels.

    Example: [bold]pdm assets register pump-7 --site north --kind pump --channel temp:degC:10:90[/]
    """
    channels = dict(_channel(text) for text in channel)
    _done(_run(lambda app, **kw: app.register_asset(asset_id, site, kind, channels, **kw), actor=by))


@assets.command("maintenance")
def maintenance(
    asset_id: Annotated[str, typer.Argument(help="The asset maintained.")],
    work_order: Annotated[str, typer.Option(help="Work order id.")],
    kind: Annotated[str, typer.Option(help="e.g. inspection, repair.")],
    started: Annotated[datetime, typer.Option(help="Start (UTC if no offset).")],
    ended: Annotated[datetime, typer.Option(help="End (UTC if no offset).")],
    findings: Annotated[str, typer.Option(help="What was found.")] = "",
    fault: Annotated[bool, typer.Option("--fault/--no-fault", help="Was a fault confirmed?")] = False,
    by: By = "cli",
) -> None:
    """Record maintenance; its window silences the asset's alerts.

    Example: [bold]pdm assets maintenance pump-7 --work-order WO-81 --kind repair
        --started 2026-11-21T08:00 --ended 2026-11-21T10:00 --fault[/]
    """
    _done(_run(lambda app, **kw: app.record_maintenance(
        asset_id, work_order, kind, findings, fault, _utc(started), _utc(ended), **kw), actor=by))


@silences.command("create")
def create_silence(
    target: Annotated[str, typer.Argument(help="Asset id, or site with --site.")],
    ends: Annotated[datetime, typer.Option(help="End (UTC if no offset).")],
    reason: Annotated[str, typer.Option(help="Why.")],
    by: By,
    site: Annotated[bool, typer.Option("--site", help="TARGET is a site, not an asset.")] = False,
    starts: Annotated[datetime | None, typer.Option(help="Start (default now).")] = None,
) -> None:
    """Silence alerts of an asset or site.

    Example: [bold]pdm silences create pump-7 --ends 2026-11-21T18:00 --reason shutdown --by ana[/]
    """
    scope = SilenceScope.SITE if site else SilenceScope.ASSET
    begin = _utc(starts) if starts else datetime.now(UTC)
    end = _utc(ends)
    _done(_run(lambda app, **kw: app.create_silence(scope, target, begin, end, reason, by, **kw), actor=by))


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _channel(text: str) -> tuple[str, ChannelSpec]:
    parts = text.split(":")
    if len(parts) not in (2, 4) or not all(parts[:2]):
        fail(f"--channel {text!r}: expected NAME:UNIT or NAME:UNIT:LOW:HIGH")
    try:
        low, high = (float(parts[2]), float(parts[3])) if len(parts) == 4 else (None, None)
    except ValueError:
        fail(f"--channel {text!r}: LOW and HIGH must be numbers")
    return parts[0], ChannelSpec(parts[1], low, high)
