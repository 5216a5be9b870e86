"""`pdm retrain`: a training set by replay, a reproducible fit, a backtest, and a recorded model version."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer

from pdm.cli.common import err_console, fail, require_infrastructure
from pdm.cli.replay import build_source, progress_bar
from pdm.cli.rollout import parse_model, parse_policy, serving_now
from pdm.domain.application import PdmApplication
from pdm.domain.errors import BaselineNotServingError, DomainError
from pdm.domain.rollout_baseline import ServingModel
from pdm.domain.rollouts import Rollout
from pdm.eventstore import open_application
from pdm.settings import Settings
from pdm.simulation.faults import FaultSpecError, parse_span
from pdm.training.fit import NotEnoughDataError
from pdm.training.job import (
    ACTOR,
    CODE_VERSION,
    TrainingResult,
    exclusions,
    labels_from_store,
    maintenance_periods,
    record,
    stored_spec,
    train,
)
from pdm.training.spec import TrainingSpec, canonical_algorithm

Opt = typer.Option


def retrain(
    start: Annotated[str | None, Opt("--from", help="first event time of the data")] = None,
    end: Annotated[str | None, Opt("--to", help="end of the data, exclusive")] = None,
    asset: Annotated[list[str] | None, Opt("--asset", help="asset id; repeat; default every asset")] = None,
    algorithm: Annotated[str, Opt(help="pca or isolation_forest")] = "isolation_forest",
    seed: Annotated[int, Opt(help="random seed")] = 0,
    holdout: Annotated[str, Opt(help="held-out recent period for the backtest, e.g. 1d, 6h")] = "1d",
    exclude_maintenance: Annotated[bool, Opt("--exclude-maintenance", help="leave maintenance out")] = False,
    from_lineage: Annotated[str | None, Opt("--from-lineage", help="retrain a recorded version")] = None,
    dry_run: Annotated[bool, Opt("--dry-run", help="train and report, record nothing")] = False,
    rollout: Annotated[bool, Opt("--rollout", help="then start a rollout of it (needs --baseline)")] = False,
    baseline: Annotated[str | None, Opt(help='VERSION@HASH serving "*" now, for --rollout')] = None,
    set_: Annotated[list[str], Opt("--set", help="rollout policy KEY=VALUE, repeatable")] = [],  # noqa: B006
    policy_file: Annotated[Path | None, Opt("--policy", help="JSON file of rollout policy fields")] = None,
) -> None:
    """Train a detector on replayed history, backtest it, save its artifact, record ModelVersion.Trained.

    Example: [bold]pdm retrain --from 2026-10-01T00:00:00Z --to 2026-11-01T00:00:00Z --algorithm pca[/]
    Reproduce: [bold]pdm retrain --from-lineage 9f86d0…[/] (exit 1 if the hash differs)
    Roll it out: [bold]pdm retrain --from … --to … --rollout --baseline contextual-drift-v1@<hash>[/]
    """
    if from_lineage:
        return _from_lineage(from_lineage)
    if not start or not end:
        fail("--from and --to are required (or --from-lineage HASH)")
    plan = _rollout_plan(rollout, baseline, set_, policy_file, dry_run)
    source = build_source(start, end, asset, "archive", None, None, False, False)
    settings = source.settings
    if plan is not None:
        _check_baseline(settings, plan[0])
    try:
        algo, hold = canonical_algorithm(algorithm), parse_span(holdout, "--holdout")
    except (ValueError, FaultSpecError) as exc:
        fail(str(exc))
    watermark = source.current_watermark()
    if watermark is None:
        fail("no archived readings in that range")
    app = open_application(settings.postgres)
    try:
        labels = labels_from_store(app, source.assets)
        maintenance = maintenance_periods(app, source.assets) if exclude_maintenance else []
        assets = source.assets or tuple(_archived_assets(settings, source))
        spec = TrainingSpec(algo, seed, source.start, source.end, source.end - hold, assets, watermark,
                            exclusions(labels, maintenance))
        result = _train(settings, spec, labels)
        position = None if dry_run else record(settings, app, result)
    except DomainError as exc:
        app.close()
        fail(f"{exc.code}: {exc}")
    try:
        rollout_id = None if plan is None else _start_rollout(app, result, plan, serving_now(settings))
    finally:
        app.close()
    _report(result, position, rollout_id)


def _rollout_plan(rollout: bool, baseline: str | None, options: list[str], policy_file: Path | None,
                  dry_run: bool) -> tuple[tuple[str, str], dict[str, Any]] | None:
    """Checked before training, so a bad baseline or policy costs no replay."""
    if not rollout:
        if baseline or options or policy_file:
            fail("--baseline, --set and --policy only go with --rollout")
        return None
    if dry_run:
        fail("--rollout needs a recorded model version; it cannot go with --dry-run")
    if not baseline:
        fail("--rollout needs --baseline VERSION@HASH: the model serving now")
    return parse_model(baseline, "--baseline"), parse_policy(options, policy_file)


def _check_baseline(settings: Settings, baseline: tuple[str, str]) -> None:
    """Before training, so a baseline that is not serving costs no replay. The start checks again:
    a rollout finishing during the training may change what serves."""
    require_infrastructure(settings, "kafka")
    try:
        serving_now(settings).require_baseline(*baseline)
    except BaselineNotServingError as exc:
        fail(f"--baseline: {exc} ({exc.code})", 1)


def _start_rollout(app: PdmApplication, result: TrainingResult,
                   plan: tuple[tuple[str, str], dict[str, Any]], serving: ServingModel) -> UUID:
    """The id derives from the artifact, so rerunning the same training starts no second rollout."""
    digest, (baseline, policy) = result.fitted.artifact_hash, plan
    rollout_id = Rollout.id_for(digest, "retrain")
    try:
        app.start_rollout(rollout_id, f"trained-{digest[:12]}", digest, *baseline, policy, datetime.now(UTC),
                          serving=serving, actor=ACTOR, correlation_id=f"retrain:{digest[:16]}")
    except DomainError as exc:
        fail(f"model version {digest} is recorded, but its rollout was refused: {exc} ({exc.code})", 1)
    return rollout_id


def _from_lineage(artifact_hash: str) -> None:
    from pdm.cli.common import service_settings

    settings = service_settings("retrain")
    app = open_application(settings.postgres)
    try:
        spec, code_version = stored_spec(app, artifact_hash)
        labels = labels_from_store(app, spec.assets)
    except DomainError as exc:
        fail(f"{exc.code}: {exc}")
    finally:
        app.close()
    if code_version != CODE_VERSION:
        err_console.print(f"warning: trained by {code_version}, retraining with {CODE_VERSION}",
                          highlight=False)
    result = _train(settings, spec, labels)
    _report(result, None)
    wanted = artifact_hash.removeprefix("sha256:")
    if result.fitted.artifact_hash != wanted:
        fail(f"artifact hash {result.fitted.artifact_hash} differs from the recorded {wanted}", 1)
    err_console.print("reproduced: same artifact hash", highlight=False)


def _train(settings: Settings, spec: TrainingSpec, labels: list) -> TrainingResult:  # type: ignore[type-arg]
    with progress_bar() as bar:
        task = bar.add_task("replaying", total=None, speed=0.0)
        try:
            return train(settings, spec, labels, lambda _: lambda rows: bar.advance(task, rows))
        except NotEnoughDataError as exc:
            fail(str(exc))


def _archived_assets(settings: Settings, source: object) -> list[str]:
    from pdm.infra.database import connect
    from pdm.replay.archive import assets_in

    with connect(settings.postgres.conninfo(), settings.postgres.schema_name) as conn:
        return assets_in(conn, source.span)  # type: ignore[attr-defined]


def _report(result: TrainingResult, position: int | None, rollout_id: UUID | None = None) -> None:
    out = {"artifact_hash": result.fitted.artifact_hash, "algorithm": result.spec.algorithm,
           "seed": result.spec.seed, "readings": result.readings, "metrics": result.metrics,
           "recorded_position": position, "lineage": {"from": result.spec.data_from.isoformat(),
           "to": result.spec.data_to.isoformat(), "assets": list(result.spec.assets),
           "archive_watermark": result.spec.watermark.isoformat()}}
    if rollout_id is not None:
        out["rollout_id"] = str(rollout_id)
    typer.echo(json.dumps(out, indent=2, sort_keys=True))


