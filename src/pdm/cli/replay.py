"""`pdm replay`: history from the archive or the Kafka log into a feature table or re-run scores."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

import pdm
from pdm.cli.common import err_console, fail, service_settings
from pdm.contracts import parse_event_time
from pdm.replay.history import FlagPolicy
from pdm.replay.kafka import LogPosition
from pdm.replay.output import OutputFormatError, default_suffix, write_columns
from pdm.replay.run import replay_features, replay_scores
from pdm.replay.source import ReplaySource
from pdm.scoring import DEFAULT_MODEL, ScoringModel, trained_model

Opt = typer.Option


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
        TextColumn("{task.completed:,} readings · {task.fields[speed]:,.0f}/s"), TimeRemainingColumn(),
        console=err_console, transient=True, disable=not err_console.is_terminal,
    )


def run_with_progress(source: ReplaySource, what: str, work: Any) -> Any:
    """`work(progress_callback)`; the bar's total is the archive's row count for the range."""
    started = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task(what, total=source.total(), speed=0.0)

        def advance(rows: int) -> None:
            done = bar.tasks[0].completed + rows
            bar.update(task, completed=done, speed=done / max(time.perf_counter() - started, 1e-9))

        return work(advance)


def parse_offsets(text: str) -> dict[int, int]:
    """`0:1200,3:55` → {0: 1200, 3: 55}."""
    try:
        return {int(p): int(o) for p, o in (item.split(":") for item in text.split(",") if item)}
    except ValueError:
        fail(f"--offsets {text!r}: expected PARTITION:OFFSET[,PARTITION:OFFSET…]")


def build_source(start: str, end: str, assets: list[str] | None, source: str, offsets: str | None,
                 since: str | None, include_late: bool, exclude_backfill: bool,
                 watermark: datetime | None = None) -> ReplaySource:
    if source not in ("archive", "kafka"):
        fail(f"--source {source!r}: use archive or kafka")
    settings = service_settings("replay")
    try:
        first, last = parse_event_time(start), parse_event_time(end)
        position = LogPosition(parse_offsets(offsets) if offsets else {},
                               parse_event_time(since) if since else None)
    except ValueError as exc:
        fail(str(exc))
    if last <= first:
        fail("--to must be after --from")
    return ReplaySource(settings, first, last, tuple(sorted(set(assets or []))), source,
                        FlagPolicy(include_late, not exclude_backfill), watermark, position)


def scoring_model(source: ReplaySource, model_hash: str | None) -> ScoringModel:
    if model_hash is None:
        return DEFAULT_MODEL
    from pdm.infra.model_store import ArtifactNotFoundError, load_artifact

    pg = source.settings.postgres
    digest = model_hash.removeprefix("sha256:")
    try:
        return trained_model(f"trained-{digest[:12]}", load_artifact(pg.conninfo(), pg.schema_name, digest))
    except ArtifactNotFoundError:
        fail(f"no model artifact {digest} in model_artifacts")


def replay(
    start: Annotated[str, Opt("--from", help="first event time (RFC 3339 or epoch ms)")],
    end: Annotated[str, Opt("--to", help="end of the range, exclusive")],
    asset: Annotated[list[str] | None, Opt("--asset", help="asset id; repeat; default every asset")] = None,
    source: Annotated[str, Opt(help="archive (default) or kafka")] = "archive",
    offsets: Annotated[str | None, Opt(help="kafka: PARTITION:OFFSET,… to start from")] = None,
    since: Annotated[str | None, Opt(help="kafka: first message at or after this time")] = None,
    out: Annotated[Path | None, Opt(help="output file, .parquet or .npz")] = None,
    scores: Annotated[bool, Opt("--scores", help="re-run a detector, not features")] = False,
    model: Annotated[str | None, Opt(help="trained model artifact hash; default: online detector")] = None,
    include_late: Annotated[bool, Opt("--include-late", help="keep readings flagged late")] = False,
    exclude_backfill: Annotated[bool, Opt("--exclude-backfill", help="drop backfilled readings")] = False,
) -> None:
    """Replay history at full speed into a feature table, or the scores a model would have produced.

    Example: [bold]pdm replay --from 2026-10-01T00:00:00Z --to 2026-11-01T00:00:00Z --asset pump-7[/]
    [bold]--out oct.parquet[/]; add [bold]--scores --model HASH[/] for "what would it have flagged"
    """
    src = build_source(start, end, asset, source, offsets, since, include_late, exclude_backfill)
    target = out or Path(("scores" if scores else "features") + default_suffix())
    started = time.perf_counter()
    meta: dict[str, Any] = {"source": src.source, "from": src.start.isoformat(), "to": src.end.isoformat(),
                            "assets": list(src.assets), "pdm_version": pdm.__version__}
    columns, readings = _scores(src, model, meta) if scores else _features(src, meta)
    try:
        write_columns(target, columns, meta)
    except OutputFormatError as exc:
        fail(str(exc))
    elapsed = time.perf_counter() - started
    per_s = (readings or 0) / max(elapsed, 1e-9)
    rate = f" from {readings:,} readings ({per_s:,.0f} readings/s)" if readings else ""
    err_console.print(f"wrote {len(np.asarray(columns['ts'])):,} rows to {target}{rate} in {elapsed:.2f} s",
                      highlight=False)


def _features(src: ReplaySource, meta: dict[str, Any]) -> tuple[dict[str, np.ndarray], int]:
    table, superseded = run_with_progress(src, "replaying", lambda p: replay_features(
        DEFAULT_MODEL.feature_set, src.histories(DEFAULT_MODEL.feature_set.channels, p)))
    meta |= {"feature_set_version": table.feature_set, "readings": table.readings, "superseded": superseded}
    columns = {"asset_id": table.asset_ids, "ts": table.ts_ms,
               **{name: table.values[:, i] for i, name in enumerate(table.names)}}
    return columns, table.readings


def _scores(src: ReplaySource, model: str | None, meta: dict[str, Any]) -> tuple[dict[str, np.ndarray], None]:
    used = scoring_model(src, model)
    table = run_with_progress(src, "scoring", lambda p: replay_scores(
        lambda _: used, src.histories(used.feature_set.channels, p)))
    meta |= {"model_version": used.version, "feature_set_version": table.feature_set or used.feature_set.tag,
             "artifact_hash": model}
    columns = {"asset_id": table.asset_ids, "ts": table.ts_ms, "score": table.score,
               "threshold": table.threshold, "is_anomalous": table.is_anomalous, "onset": table.onset}
    return columns, None
