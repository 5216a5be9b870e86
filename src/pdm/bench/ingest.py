"""`pdm bench ingest`: HTTP and Kafka-to-archive throughput beside raw producer and raw COPY."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pdm.bench import _archive, _data, _http
from pdm.bench._infra import BenchInfra, bench_infra
from pdm.bench._stats import Figure, format_ms, percentile, rate, results_table
from pdm.contracts import from_epoch_ms
from pdm.logs import configure_logging
from pdm.settings import ConfigurationError, load_settings

ASSETS = 100
PER_REQUEST = 1000
ARCHIVE_MESSAGE_ROWS = 500
HTTP_TARGET = 50_000
ARCHIVE_TARGET = 0.5
console = Console(highlight=False)


def ingest(
    readings: Annotated[int, typer.Option(min=20_000, help="Readings per phase (HTTP, archive).")] = 200_000,
    clients: Annotated[int, typer.Option(min=1, max=64, help="Concurrent HTTP clients.")] = 4,
    only: Annotated[str, typer.Option(help="Run one phase: http, archive or both.")] = "both",
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write the figures here.")] = None,
) -> None:
    """HTTP ingest and Kafka-to-archive readings/s, each beside a raw baseline of the same run.

    Starts its own Tansu broker and uses PDM_POSTGRES__URL if set, else an embedded PostgreSQL;
    works in a fresh schema that it drops afterwards. Writes nothing but stdout (and --json).

    Example: [bold]pdm bench ingest --readings 300000 --json ingest.json[/]
    """
    if only not in ("http", "archive", "both"):
        raise typer.BadParameter("use http, archive or both", param_hint="--only")
    try:
        base = load_settings()
    except ConfigurationError as exc:
        raise typer.BadParameter(str(exc)) from None
    configure_logging("bench", "auto", "warning")  # the gate's info lines would cut the progress bar
    figures, details = asyncio.run(_run(base, readings, clients, only))
    console.print(results_table(f"pdm bench ingest — {os.cpu_count()} cores, Python "
                                f"{platform.python_version()}", figures))
    for figure in figures:
        console.print(f"  {figure.what} baseline: {figure.baseline_name}")
    for line in details["notes"]:
        console.print(f"  {line}")
    if json_path:
        json_path.write_text(json.dumps({"figures": [f.__dict__ | {"ratio": f.ratio} for f in figures],
                                         **details}, indent=2, default=str))


async def _run(base: Any, readings: int, clients: int, only: str) -> tuple[list[Figure], dict[str, Any]]:
    details: dict[str, Any] = {"readings": readings, "clients": clients, "notes": [],
                               "python": sys.version.split()[0], "cores": os.cpu_count()}
    figures: list[Figure] = []
    with _progress() as step, bench_infra(base) as infra:
        details["postgres"] = "embedded" if infra.embedded_postgres else "configured"
        if only in ("http", "both"):
            figures.append(await _http_phase(infra, readings, clients, step, details))
        if only in ("archive", "both"):
            figures.append(await _archive_phase(infra, readings, step, details))
    return figures, details


Step = Callable[[str, int], Callable[[int], None]]


@contextmanager
def _progress() -> Iterator[Step]:
    columns = (TextColumn("{task.description:<34}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        def step(what: str, total: int) -> Callable[[int], None]:
            task = progress.add_task(what, total=total)
            return lambda n: progress.advance(task, n)

        yield step


async def _http_phase(infra: BenchInfra, readings: int, clients: int, step: Step,
                      details: dict[str, Any]) -> Figure:
    series = _data.Series.ending_now(readings, ASSETS)
    tick = step("preparing HTTP bodies", 2)
    bodies, messages = _data.http_bodies(series, PER_REQUEST), _data.request_messages(series, PER_REQUEST)
    tick(2)
    raw = await _http.produce_all(infra.settings(_prefix("raw")), messages, clients,
                                  step("raw aiokafka producer", series.size))
    with _http.api_process(infra.settings(_prefix("http"))) as url:
        await _http.post_all(url, bodies[:clients * 2], PER_REQUEST, clients, step("HTTP warm-up", 0))
        load = await _http.post_all(url, bodies, PER_REQUEST, clients,
                                    step("POST /v1/readings", series.size))
    p50, p99 = percentile(load.latencies, 50), percentile(load.latencies, 99)
    details["http"] = {"requests": len(bodies), "readings": load.readings, "seconds": load.seconds,
                       "p50_s": p50, "p99_s": p99, "raw_seconds": raw.seconds,
                       "raw_p50_s": percentile(raw.latencies, 50)}
    details["notes"].append(f"HTTP: {len(bodies)} requests of {PER_REQUEST} readings ({clients} clients), "
                            f"latency p50 {format_ms(p50)}, p99 {format_ms(p99)}")
    return Figure("HTTP → Kafka", rate(load.readings, load.seconds),
                  "aiokafka send() of the same batch messages, futures gathered, acks=all",
                  rate(raw.readings, raw.seconds), f"≥ {HTTP_TARGET:,}/s")


async def _archive_phase(infra: BenchInfra, readings: int, step: Step, details: dict[str, Any]) -> Figure:
    series = _data.Series.ending_now(readings, ASSETS)
    settings = infra.settings(_prefix("archive"))
    tick = step("preparing messages and rows", 2)
    messages = _data.batch_messages(series, ARCHIVE_MESSAGE_ROWS)
    rows = list(_data.archive_rows(series))
    tick(1)
    await _archive.preload(settings, messages)
    tick(1)
    copy_s = await asyncio.to_thread(_archive.raw_copy, settings, rows, _months(series),
                                     step("raw binary COPY", len(rows)))
    del rows
    times = await _archive.run_gate(settings, series.size, step("reading gate → archive", series.size))
    details["archive"] = {"readings": series.size, "messages": len(messages), "gate_seconds": times.seconds,
                          "gate_batches": times.batches, "sort_s": times.sort_s, "write_s": times.write_s,
                          "between_batches_s": times.between_s, "commit_s": times.commit_s,
                          "raw_copy_seconds": copy_s}
    details["notes"].append(
        f"archive: {len(messages)} messages of {ARCHIVE_MESSAGE_ROWS} readings; gate {times.batches} "
        f"batches, decode {times.sort_s:.2f} s + COPY {times.write_s:.2f} s + waiting for Kafka "
        f"{times.between_s:.2f} s + offset commits {times.commit_s:.2f} s of {times.seconds:.2f} s")
    return Figure("Kafka → gate → archive", rate(series.size, times.seconds),
                  "psycopg binary COPY (write_row) of the same rows into a twin table",
                  rate(series.size, copy_s), f"≥ {ARCHIVE_TARGET:.0%} of baseline")


def _months(series: _data.Series) -> set[date]:
    first, last = from_epoch_ms(series.ts_ms(0)), from_epoch_ms(series.ts_ms(series.steps - 1))
    months, year, month = set(), first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.add(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _prefix(phase: str) -> str:
    return f"bench-{phase}-{uuid.uuid4().hex[:8]}."
