"""`pdm simulate`: the simulator's labelled machine data, published in real or accelerated time."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from pdm.cli.common import err_console, fail, service_settings
from pdm.cli.publish import broker_settings, connect
from pdm.contracts import DEFAULT_POLICY, MAX_BATCH_ROWS, format_event_time, parse_event_time
from pdm.infra.broker import BrokerUnavailableError
from pdm.ingest.publisher import ReadingPublisher
from pdm.ingest.rate import seconds_until_tick, ticks_due
from pdm.settings import KafkaSettings
from pdm.simulation import FaultSpecError, Simulator, format_span, parse_span, write_csv_dataset

console = Console()
MIN_SEND_INTERVAL_S = 0.1
"""Ticks due within this much wall time share one message per asset: at most ~10 sends a second."""


@dataclass(frozen=True)
class Pace:
    speedup: float
    as_fast_as_possible: bool
    ticks_per_message: int

    def lead(self, duration: timedelta) -> timedelta:
        """How far simulated time runs ahead of the wall clock by the end of the run."""
        return duration if self.as_fast_as_possible else duration * (1 - 1 / self.speedup)


def resolve_start(
    text: str | None, now: datetime, duration: timedelta, pace: Pace, backfill: bool
) -> datetime:
    """Default: early enough that no reading is stamped after the moment it is sent, so every
    one passes the gate's event-time window (in real time that is simply now)."""
    if text is None:
        return now - max(pace.lead(duration), timedelta(0))
    try:
        start = parse_event_time(int(text) if text.isdigit() else text)
    except ValueError as exc:
        fail(f"--start: {exc}")
    ahead = start + pace.lead(duration) - now
    if max(ahead, start - now) > DEFAULT_POLICY.max_future_skew:
        fail(f"--start {format_event_time(start)}: readings would be stamped up to {_seconds(ahead)} ahead "
             f"of the clock; the gate accepts {_seconds(DEFAULT_POLICY.max_future_skew)}")
    if not backfill and start + duration < now - DEFAULT_POLICY.max_future_skew:
        fail(f"--start {format_event_time(start)} puts every reading in the past; add --backfill")
    return start


def _seconds(delta: timedelta) -> str:
    return f"{delta.total_seconds():,.0f} s"


def write_labels(sim: Simulator, path: Path, duration: timedelta) -> Path:
    """NAB `combined_windows.json` shape at PATH (for the scorer) and each fault's window with
    its kind and channel at PATH's `.detailed.json` sibling."""
    detailed = path.with_name(f"{path.stem}.detailed.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(sim.labels(duration), indent=2) + "\n", encoding="utf-8")
    windows = [w.to_json() for w in sim.label_windows(duration)]
    detailed.write_text(json.dumps(windows, indent=2) + "\n", encoding="utf-8")
    return detailed


async def stream_ticks(sim: Simulator, publisher: ReadingPublisher, total: int, pace: Pace, *,
                       backfill: bool, progress: Progress) -> int:
    """Sends every tick once it is due; returns the readings sent."""
    task = progress.add_task("simulating", total=total * len(sim.assets))
    started, sent, readings = time.monotonic(), 0, 0
    while sent < total:
        elapsed = time.monotonic() - started
        due = total if pace.as_fast_as_possible else min(total, ticks_due(elapsed, sim.rate_hz, pace.speedup))
        if due <= sent:
            wait = seconds_until_tick(sent, elapsed, sim.rate_hz, pace.speedup)
            await asyncio.sleep(max(wait, MIN_SEND_INTERVAL_S))
            continue
        step = min(due - sent, pace.ticks_per_message)
        piece = sim.slice(sent, step)
        await publisher.publish_batches([piece.batch(a, backfill=backfill) for a in range(len(sim.assets))])
        sent, readings = sent + step, readings + step * len(sim.assets)
        progress.update(task, completed=readings)
    return readings


async def run(sim: Simulator, kafka: KafkaSettings, total: int, pace: Pace, backfill: bool) -> int:
    publisher = await connect(kafka)
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                      TextColumn("{task.completed:,.0f} readings"), TimeRemainingColumn(),
                      console=err_console, transient=True, disable=not err_console.is_terminal) as progress:
            return await stream_ticks(sim, publisher, total, pace, backfill=backfill, progress=progress)
    finally:
        await publisher.stop()


def simulate(
    assets: Annotated[int, typer.Option(min=1, max=10_000, help="number of machines")] = 4,
    rate: Annotated[float, typer.Option(min=0.001, max=1000, help="readings/s per asset")] = 1.0,
    duration: Annotated[str, typer.Option(help="simulated time span, e.g. 90s, 10m, 1h30m")] = "10m",
    faults: Annotated[str, typer.Option(help="kind:asset[#channel]@start[+duration], comma-separated")] = "",
    seed: Annotated[int, typer.Option(help="same seed, same data")] = 0,
    labels: Annotated[Path | None, typer.Option(help="write fault windows here (NAB format)")] = None,
    start: Annotated[str | None, typer.Option(help="simulated start, RFC 3339 (default: now)")] = None,
    speedup: Annotated[float, typer.Option(min=0.001, help="simulated seconds per wall second")] = 1.0,
    as_fast_as_possible: Annotated[bool, typer.Option(help="do not wait for the clock at all")] = False,
    backfill: Annotated[bool, typer.Option(help="mark batches as backfill; allows a past --start")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=MAX_BATCH_ROWS, help="ticks per message")] = 1000,
    out: Annotated[Path | None, typer.Option(help="write a CSV dataset here instead of publishing")] = None,
) -> None:
    """Publish simulated pumps and motors with injected, labelled faults (deterministic per --seed).

    Tick k of every asset is stamped start + k/rate and sent when that moment comes (sooner with --speedup).

    --labels PATH writes the fault windows so detection can be scored; --out DIR writes CSV files instead.

    Example: [bold]pdm simulate --assets 4 --rate 10 --duration 1h --speedup 60 --faults
    bearing_wear:pump-1@20m+30m --seed 7 --labels labels.json[/]
    """
    settings = service_settings("simulate")
    try:
        span = parse_span(duration, "--duration")
    except FaultSpecError as exc:
        fail(str(exc))
    # A dataset on disk ends now, as if generated instantly; published data follows the clock.
    pace = Pace(speedup, as_fast_as_possible or out is not None, batch_size)
    begin = resolve_start(start, datetime.now(UTC), span, pace, backfill or out is not None)
    try:
        sim = Simulator(assets, rate_hz=rate, seed=seed, faults=faults, start=begin)
    except (FaultSpecError, ValueError) as exc:
        fail(f"--faults: {exc}" if isinstance(exc, FaultSpecError) else str(exc))
    total = sim.tick_count(span)
    if out is not None:
        files = write_csv_dataset(sim, out, span)
        console.print(f"wrote {total * assets:,} readings of {assets} assets to {out} (labels: "
                      f"{files.labels.name}, {files.detailed_labels.name})", highlight=False, soft_wrap=True)
        return
    kafka = broker_settings(settings)
    detailed = write_labels(sim, labels, span) if labels is not None else None
    began = time.monotonic()
    try:
        readings = asyncio.run(run(sim, kafka, total, pace, backfill))
    except BrokerUnavailableError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted", 130)
    _summary(readings, assets, total, rate, span, time.monotonic() - began, labels, detailed)


def _summary(readings: int, assets: int, ticks: int, rate: float, span: timedelta, elapsed: float,
             labels: Path | None, detailed: Path | None) -> None:
    where = f"; labels: {labels} and {detailed}" if labels is not None else ""
    console.print(
        f"published {readings:,} readings of {assets} assets ({ticks:,} ticks at {rate:g}/s, "
        f"{format_span(span)} simulated) in {elapsed:.2f} s{where}", highlight=False, soft_wrap=True,
    )
