"""`pdm eval`: detection quality of the default detector on NAB or on a labelled simulator dataset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pdm.cli.common import fail
from pdm.evaluation import NabReport, run_labelled, run_nab

console = Console()
DEFAULT_NAB = Path("../shared/datasets/nab")


def eval_command(
    data_dir: Annotated[
        Path | None, typer.Argument(help="directory of labelled CSVs (with --labels)")
    ] = None,
    labels: Annotated[
        Path | None, typer.Option(help="windows file in NAB's format, e.g. combined_windows.json")
    ] = None,
    nab: Annotated[
        Path | None, typer.Option(help=f"NAB corpus root (data/ and labels/); default {DEFAULT_NAB}")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help="fixed threshold; default: the detector's own (0.5)")
    ] = None,
    detector: Annotated[
        str | None, typer.Option(help="streaming detector by name (pdm.evaluation.detectors)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Replay labelled data through the streaming detector and report NAB scores and point metrics.

    Both threshold modes are reported: fixed in advance, and corpus-optimised (NAB's scoreboard).

    Examples:
      [bold]pdm eval --nab ../shared/datasets/nab[/]
      [bold]pdm simulate --out sim/ --faults overheat:pump-1@20m[/]
      [bold]pdm eval sim/ --labels sim/combined_windows.json[/]
    """
    with _progress() as progress:
        task = progress.add_task("scoring files", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = _run(data_dir, labels, nab, threshold, detector, advance)
    if as_json:
        console.print_json(json.dumps(report.as_dict(), default=str))
        return
    console.print(report_table(report))


def _run(
    data_dir: Path | None,
    labels: Path | None,
    nab: Path | None,
    threshold: float | None,
    detector: str | None,
    advance: object,
) -> NabReport:
    if data_dir is not None:
        if labels is None:
            fail("a data directory needs --labels FILE (the simulator writes combined_windows.json)")
        _require(data_dir, "data directory")
        _require(labels, "labels file")
        return run_labelled(data_dir, labels, threshold=threshold, progress=advance, detector=detector)  # type: ignore[arg-type]
    root = nab or DEFAULT_NAB
    _require(root / "data", "NAB data directory")
    _require(root / "labels" / "combined_windows.json", "NAB labels")
    return run_nab(root / "data", root / "labels", threshold=threshold, progress=advance, detector=detector)  # type: ignore[arg-type]


def _require(path: Path, what: str) -> None:
    if not path.exists():
        fail(f"{what} not found: {path} (pass a path, or run from a directory where it exists)")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def report_table(report: NabReport) -> Table:
    table = Table(
        title=f"{report.detector}: {report.files} files, {report.rows:,} rows, {report.seconds:.1f} s"
    )
    for column in ("profile", "threshold mode", "threshold", "NAB score", "windows", "false positives"):
        table.add_column(
            column, no_wrap=True, justify="left" if column in ("profile", "threshold mode") else "right"
        )
    for r in report.results:
        table.add_row(
            r.profile,
            r.mode,
            f"{r.threshold:.4f}",
            f"{r.normalised_score:.1f}",
            f"{r.windows_detected}/{r.windows_total}",
            str(r.false_positives),
        )
    if report.point is not None:
        p = report.point
        table.caption = (
            f"point-wise at {report.point_threshold:.4f}: F1 {p.f1:.3f}, false-alarm rate "
            f"{p.false_alarm_rate:.4f}, missed-alarm rate {p.missed_alarm_rate:.3f}"
        )
    return table
