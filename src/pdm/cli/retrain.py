"""`pdm retrain`: a training set by replay, a reproducible fit, a backtest, and a recorded model version."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from pdm.cli.common import err_console, fail
from pdm.cli.replay import build_source, progress_bar
from pdm.domain.errors import DomainError
from pdm.eventstore import open_application
from pdm.settings import Settings
from pdm.simulation.faults import FaultSpecError, parse_span
from pdm.training.fit import NotEnoughDataError
from pdm.training.job import (
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
) -> None:
    """Train a detector on replayed history, backtest it, save its artifact, record ModelVersion.Trained.

    Example: [bold]pdm retrain --from 2026-10-01T00:00:00Z --to 2026-11-01T00:00:00Z --algorithm pca[/]
    Reproduce: [bold]pdm retrain --from-lineage 9f86d0…[/] (exit 1 if the hash differs)
    """
    if from_lineage:
        return _from_lineage(from_lineage)
    if not start or not end:
        fail("--from and --to are required (or --from-lineage HASH)")
    source = build_source(start, end, asset, "archive", None, None, False, False)
    settings = source.settings
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
        fail(f"{exc.code}: {exc}")
    finally:
        app.close()
    _report(result, position)


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


def _report(result: TrainingResult, position: int | None) -> None:
    out = {"artifact_hash": result.fitted.artifact_hash, "algorithm": result.spec.algorithm,
           "seed": result.spec.seed, "readings": result.readings, "metrics": result.metrics,
           "recorded_position": position, "lineage": {"from": result.spec.data_from.isoformat(),
           "to": result.spec.data_to.isoformat(), "assets": list(result.spec.assets),
           "archive_watermark": result.spec.watermark.isoformat()}}
    typer.echo(json.dumps(out, indent=2, sort_keys=True))


