"""`pdm bench stream`: readings topic → scores, beside a counting Faust agent, raw aiokafka and pure numpy."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass

import typer
from rich.console import Console
from rich.table import Table

from pdm.bench._stream_data import (
    ASSETS,
    FRAME_SAMPLES,
    RATE_HZ,
    Encoding,
    Messages,
    batch_messages,
    best_of,
    frame_messages,
    pure_frame_rate,
    pure_rate,
    single_messages,
)
from pdm.bench._stream_latency import live_latency
from pdm.bench._stream_worker import (
    BROKER_PIDS,
    Run,
    WorkerStalledError,
    phase_settings,
    publish,
    raw_consume,
    worker_run,
)
from pdm.infra.broker import EmbeddedBroker
from pdm.simulation import Simulator

console = Console()
BASELINE_REPEATS = 5


@dataclass
class Row:
    what: str
    rate: float
    baseline: str = ""
    ratio: float | None = None
    note: str = ""


@dataclass(frozen=True)
class Plan:
    single_ticks: int
    batch_ticks: int
    frames_per_asset: int
    workers: int
    latency: bool
    encoding: Encoding
    batch_rows: int = 500
    frame_samples: int = FRAME_SAMPLES


def stream(
    single_ticks: int = typer.Option(2_500, help="ticks of 16 assets sent as single-reading messages"),
    batch_ticks: int = typer.Option(125_000, help="ticks of 16 assets sent as batch messages"),
    batch_rows: int = typer.Option(500, min=1, max=10_000, help="readings per batch message"),
    frames: int = typer.Option(120, help="frames per asset (16 assets)"),
    frame_samples: int = typer.Option(FRAME_SAMPLES, min=64, max=65_536, help="samples per frame"),
    workers: int = typer.Option(2, min=1, max=8, help="also run batches and frames with N worker processes"),
    latency: bool = typer.Option(True, help="measure latency at half the single and batch rates"),
    encoding: str = typer.Option("binary", help="wire encoding of batch and frame messages: binary or json"),
) -> None:
    """End-to-end readings/s from pdm.readings.v1 to scores, beside the framework's own floor.

    Starts its own embedded broker. The pure-numpy baselines run in this one process; worker
    rows with N > 1 are N processes in one consumer group, and their ratio is their combined
    rate over that single-process baseline. Example: [bold]pdm bench stream --workers 2[/]
    """
    if encoding not in ("binary", "json"):
        raise typer.BadParameter(f"{encoding!r}: expected binary or json", param_hint="--encoding")
    plan = Plan(single_ticks, batch_ticks, frames, workers, latency, encoding, batch_rows,  # type: ignore[arg-type]
                frame_samples)
    asyncio.run(_run(plan))


async def _run(plan: Plan) -> None:
    broker, base_dir = EmbeddedBroker(), tempfile.mkdtemp(prefix="pdm-bench-stream-")
    bootstrap = broker.start()
    assert broker.process is not None
    BROKER_PIDS[bootstrap] = broker.process.pid
    rows: list[Row] = []
    try:
        single_rate = await _singles(plan, bootstrap, base_dir, rows)
        batch_rate = await _batches(plan, bootstrap, base_dir, rows)
        await _frames(plan, bootstrap, base_dir, rows)
        if plan.latency:
            for rows_per_message, rate in ((1, single_rate), (plan.batch_rows, batch_rate)):
                binary = plan.encoding == "binary" and rows_per_message > 1
                p50, p99, n, sent = await live_latency(bootstrap, base_dir, rate / 2, rows_per_message,
                                                       binary=binary)
                kind = "single" if rows_per_message == 1 else "batch"
                note = f"p50 {p50:.0f} ms p99 {p99:.0f} ms n={n}"
                rows.append(Row(f"latency {kind} @ {sent:,.0f}/s", sent, note=note))
    finally:
        broker.stop()
    print_table(rows)


def _sim() -> Simulator:
    return Simulator(ASSETS, rate_hz=RATE_HZ, seed=7, dropout_rate=0.0)


async def _singles(plan: Plan, bootstrap: str, base_dir: str, rows: list[Row]) -> float:
    singles = single_messages(_sim(), plan.single_ticks)
    counted = await worker_run(bootstrap, "count", singles, base_dir)
    floor = counted.rate
    run = await worker_run(bootstrap, "score", singles, base_dir)
    rows += [Row("faust agent that only counts, single", floor, note=counted.cpu()),
             Row("scoring agent, single-reading messages", run.rate, "counting agent", run.rate / floor,
                 run.note())]
    return run.rate


async def _batches(plan: Plan, bootstrap: str, base_dir: str, rows: list[Row]) -> float:
    rows_per_message = plan.batch_rows
    batches = batch_messages(_sim(), plan.batch_ticks, rows_per_message, encoding=plan.encoding)
    readings = plan.batch_ticks * ASSETS
    console.print(f"batch ({plan.encoding}): {len(batches)} messages = {readings} readings")
    core, full = best_of(BASELINE_REPEATS, lambda: pure_rate(batches, readings))
    raw_settings = phase_settings(bootstrap, base_dir)
    await publish(raw_settings.kafka, batches)
    raw_run = await raw_consume(raw_settings.kafka, len(batches))
    raw = raw_run.rate * rows_per_message
    counted = await worker_run(bootstrap, "count", batches, base_dir)
    count = counted.rate * rows_per_message
    repeats = f"best of {BASELINE_REPEATS}"
    rows += [Row("pure numpy features+scores (1 process, no Kafka, no decode)", core, note=repeats),
             Row("decode+features+scores+encode (1 process, no Kafka)", full, note=repeats),
             Row("raw aiokafka consume + decode, batch", raw, note=raw_run.cpu("consumer")),
             Row("faust agent that only counts, batch", count,
                 note=f"{counted.per_batch:.0f} messages a batch; {counted.cpu()}"), ceiling(core, count)]
    best = 0.0
    for n in sorted({1, plan.workers}):
        what = f"scoring agent, {rows_per_message}-row batches, {n} worker(s)"
        run = await _scored(rows, what, bootstrap, batches, base_dir, n)
        scored = run.rate * rows_per_message if run else 0.0
        if run:
            rows.append(Row(what, scored, "pure numpy",
                            scored / core, f"{scored / full:.0%} of decode-inclusive; {run.note()}"))
        best = scored if n == 1 else best
    return best


def ceiling(core: float, count: float) -> Row:
    """The most one worker can reach: the counting agent's time per unit plus the numpy work's, and
    nothing for decoding, encoding or sending. As a ratio to numpy: count / (core + count)."""
    rate = 1 / (1 / core + 1 / count) if core and count else 0.0
    return Row("ceiling of 1 worker: counting agent + numpy work, in series", rate, "pure numpy",
               rate / core if core else None, "no decode, encode or sends")


async def _scored(rows: list[Row], what: str, bootstrap: str, messages: Messages, base_dir: str,
                  workers: int) -> Run | None:
    """A stalled run becomes a row saying so, and the other rows are still measured."""
    try:
        return await worker_run(bootstrap, "score", messages, base_dir, workers=workers)
    except WorkerStalledError as exc:
        rows.append(Row(what, 0.0, note=f"stalled: {exc}"))
        return None


async def _frames(plan: Plan, bootstrap: str, base_dir: str, rows: list[Row]) -> None:
    samples = plan.frame_samples
    frames = frame_messages(_sim(), plan.frames_per_asset, samples=samples, encoding=plan.encoding)
    console.print(f"frames ({plan.encoding}): {len(frames)} messages = {len(frames) * samples} samples")
    core, full = best_of(BASELINE_REPEATS, lambda: pure_frame_rate(frames))
    raw_settings = phase_settings(bootstrap, base_dir)
    await publish(raw_settings.kafka, frames)
    raw_run = await raw_consume(raw_settings.kafka, len(frames))
    counted = await worker_run(bootstrap, "count", frames, base_dir)
    count = counted.rate * samples
    rows += [Row("pure numpy frame features+scores (1 process, no Kafka, no decode)", core,
                 note=f"samples/s, best of {BASELINE_REPEATS}"),
             Row("frame decode+features+scores+encode (1 process, no Kafka)", full,
                 note=f"samples/s, best of {BASELINE_REPEATS}"),
             Row("raw aiokafka consume + decode, frames", raw_run.rate * samples, "pure numpy",
                 raw_run.rate * samples / core, f"samples/s; {raw_run.cpu('consumer')}"),
             Row("faust agent that only counts, frames", count, "pure numpy", count / core,
                 f"samples/s; the framework's own floor for these messages; "
                 f"{counted.per_batch:.0f} messages a batch; {counted.cpu()}"), ceiling(core, count)]
    for n in sorted({1, plan.workers}):
        what = f"scoring agent, {samples}-sample frames, {n} worker(s)"
        run = await _scored(rows, what, bootstrap, frames, base_dir, n)
        if run:
            scored = run.rate * samples
            note = f"samples/s; {scored / full:.0%} of decode-inclusive; {run.note()}"
            rows.append(Row(what, scored, "pure numpy", scored / core, note))


def print_table(rows: list[Row]) -> None:
    table = Table(title="pdm bench stream (readings or samples per second, one run, this machine)")
    for column in ("what", "per second", "baseline", "ratio", "note"):
        table.add_column(column)
    for r in rows:
        ratio = "" if r.ratio is None else f"{r.ratio:.0%}"
        table.add_row(r.what, f"{r.rate:,.0f}", r.baseline, ratio, r.note)
    console.print(table)
