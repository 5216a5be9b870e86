"""`pdm rollout start|status|abort` and `pdm saga`: model rollouts from the command line."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID, uuid4

import typer

from pdm.cli.common import fail, require_infrastructure, service_settings
from pdm.domain.errors import DomainError, InvalidRolloutPolicyError
from pdm.domain.rollout_baseline import ServingModel
from pdm.domain.rollout_policy import RolloutPolicy
from pdm.eventstore import open_application
from pdm.logs import get_logger
from pdm.settings import Settings

app = typer.Typer(no_args_is_help=True, help="Roll a model version out: validate, shadow, canary, promote.")
WHO = {"actor": "cli"}


def parse_policy(options: list[str], policy_file: Path | None) -> dict[str, Any]:
    """KEY=VALUE pairs parsed as JSON values (`shadow_s=60`, `shadow=false`), over a JSON file."""
    try:
        policy: dict[str, Any] = json.loads(policy_file.read_text()) if policy_file else {}
    except (OSError, json.JSONDecodeError) as exc:
        fail(f"--policy {policy_file}: {exc}")
    for option in options:
        key, sep, raw = option.partition("=")
        if not sep:
            fail(f"--set {option!r}: expected KEY=VALUE, e.g. shadow_s=600")
        try:
            policy[key] = json.loads(raw)
        except json.JSONDecodeError:
            policy[key] = raw
    try:
        return RolloutPolicy.from_data(policy).as_data()
    except InvalidRolloutPolicyError as exc:
        fail(f"rollout policy: {exc}")
    except (TypeError, ValueError) as exc:  # e.g. shadow_s=soon: a field of the wrong type
        fail(f"rollout policy: {exc}")


def parse_model(text: str, option: str) -> tuple[str, str]:
    version, _, digest = text.partition("@")
    if not (version and digest):
        fail(f"{option} is VERSION@HASH, e.g. pca-2@<64 hex digits>; got {text!r}")
    return version, digest


def serving_now(settings: Settings) -> ServingModel:
    """What serves the fleet (`"*"`) on pdm.deployments.v1 now; unreadable, a start fails (exit 1)."""
    from pdm.infra.broker import BrokerUnavailableError
    from pdm.rollout.serving import fleet_serving

    try:
        return asyncio.run(fleet_serving(settings.kafka))
    except BrokerUnavailableError as exc:
        fail(f"cannot check the baseline against what serves the fleet: {exc}", code=1)


def _settings(needs: str) -> Settings:
    settings = service_settings("rollout")
    require_infrastructure(settings, needs)
    return settings


def _run(action: str, fn: Any, settings: Settings | None = None) -> Any:
    settings = settings or _settings("postgres")
    domain = open_application(settings.postgres)
    try:
        return fn(domain)
    except DomainError as exc:
        fail(f"{action}: {exc} ({exc.code})", code=1)
    finally:
        domain.close()


@app.command()
def start(
    candidate: Annotated[str, typer.Argument(help="VERSION@HASH of the candidate model")],
    baseline: Annotated[str, typer.Option(help='VERSION@HASH of the model serving "*" now')],
    set_: Annotated[list[str], typer.Option("--set", help="policy field KEY=VALUE, repeatable")] = [],  # noqa: B006
    policy_file: Annotated[Path | None, typer.Option("--policy", help="JSON file of policy fields")] = None,
) -> None:
    """Start a rollout; the saga (`pdm saga`, part of `pdm up`) takes it from there.

    Example: [bold]pdm rollout start pca-2@3f…a9 --baseline contextual-drift-v1@00…00 --set shadow_s=600[/]
    """
    cand, base = parse_model(candidate, "CANDIDATE"), parse_model(baseline, "--baseline")
    policy, rollout_id = parse_policy(set_, policy_file), uuid4()
    settings = _settings("both")
    serving = serving_now(settings)
    _run("start", lambda d: d.start_rollout(rollout_id, *cand, *base, policy, datetime.now(UTC),
                                            serving=serving, correlation_id=f"cli:{rollout_id}", **WHO),
         settings)
    typer.echo(json.dumps({"rollout_id": str(rollout_id)}))


@app.command()
def status(rollout_id: Annotated[UUID, typer.Argument(help="the id `start` printed")]) -> None:
    """Print a rollout as JSON: state, step metrics, deadline, compensations, history.

    Example: [bold]pdm rollout status 6c1f…[/] | jq .state
    """
    from pdm.rollout.view import rollout_view

    view = _run("status", lambda d: rollout_view(d, d.get_rollout(rollout_id)))
    typer.echo(json.dumps(view, indent=2))


@app.command()
def abort(
    rollout_id: Annotated[UUID, typer.Argument(help="the rollout to stop")],
    reason: Annotated[str, typer.Option(help="recorded on the Aborted event")] = "aborted by an operator",
) -> None:
    """Abort a rollout: the saga withdraws what is live (canary, then shadow) and stops.

    Example: [bold]pdm rollout abort 6c1f… --reason "wrong feature set"[/]
    """
    position = _run("abort", lambda d: d.abort_rollout(rollout_id, reason, datetime.now(UTC),
                                                        correlation_id=f"cli:abort:{rollout_id}", **WHO))
    typer.echo(json.dumps({"rollout_id": str(rollout_id), "position": position}))


def saga(poll: Annotated[float, typer.Option(help="seconds between ticks")] = 0.5) -> None:
    """Run the rollout saga: follows rollouts, judges each step, publishes deployments, keeps deadlines.

    Example: [bold]PDM_POSTGRES__URL=postgresql://pdm@db/pdm PDM_KAFKA__BOOTSTRAP_SERVERS=k:9092 pdm saga[/]
    """
    from pdm.rollout.service import run

    settings = service_settings("saga")
    require_infrastructure(settings, "both")
    serve_saga_metrics(settings)
    asyncio.run(run(settings, poll))


def serve_saga_metrics(settings: Settings) -> None:
    """`/metrics` on PDM_SAGA__METRICS_PORT: what the saga follows, and a target for healthchecks."""
    from prometheus_client import start_http_server

    from pdm.observability.metrics import new_registry
    from pdm.observability.saga import SagaCollector

    if not settings.saga.metrics_port:
        return
    registry = new_registry()
    registry.register(SagaCollector(settings.postgres.conninfo(), settings.postgres.schema_name))
    host = "127.0.0.1" if settings.environment == "development" else "0.0.0.0"
    try:
        start_http_server(settings.saga.metrics_port, addr=host, registry=registry)
    except OSError as exc:  # a busy port costs the metrics, never the saga
        get_logger("pdm.rollout").warning("saga_metrics_unavailable", port=settings.saga.metrics_port,
                                          error=str(exc))
