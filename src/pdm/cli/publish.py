"""`pdm publish FILE`: validate a CSV, JSONL or Parquet file row by row and publish it in batches."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from pdm.cli.common import err_console, fail, service_settings
from pdm.contracts import MAX_BATCH_ROWS, ReadingV1, group_into_batches, topics
from pdm.infra.broker import BrokerUnavailableError, check_kafka
from pdm.infra.kafka import client_options, ensure_topics
from pdm.infra.stack import read_state
from pdm.ingest.files import (
    ColumnOptions,
    FileFormatError,
    FileSource,
    Rejected,
    RejectsFile,
    check_row,
    open_source,
)
from pdm.ingest.publisher import ReadingPublisher
from pdm.ingest.rate import TokenBucket
from pdm.settings import KafkaSettings, Settings

console = Console()
MAX_PENDING = 50_000
"""Readings held before a send whatever the asset mix: memory stays constant for any file size."""


def broker_settings(settings: Settings) -> KafkaSettings:
    """The configured broker, else the one `pdm infra up` left running, else a one-line error."""
    if not settings.kafka.embedded:
        return settings.kafka
    state = read_state(settings)
    if state is None:
        fail("PDM_KAFKA__BOOTSTRAP_SERVERS is not set and no `pdm infra up` stack is running; "
             "set it, or run `pdm infra up` first")
    return settings.kafka.model_copy(update={"bootstrap_servers": state.bootstrap_servers})


async def connect(kafka: KafkaSettings) -> ReadingPublisher:
    """Fails fast when the broker is down, and creates the readings topic with pdm's partition
    count so a publish before the first worker start does not get a broker-default topic."""
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # the one-line error says it once
    options = client_options(kafka)
    await check_kafka(options.pop("bootstrap_servers"), 5.0, **options)
    try:
        await asyncio.wait_for(ensure_topics(kafka, (topics.READINGS,)), 10.0)
    except (TimeoutError, KafkaError, OSError) as exc:
        raise BrokerUnavailableError(f"cannot create {kafka.topic(topics.READINGS)}: {exc!r}") from None
    return ReadingPublisher(kafka)


@dataclass
class Tally:
    sent: int = 0
    messages: int = 0
    rejected: int = 0
    acked_line: int = 0
    """Every row up to this line is either acknowledged by the broker or in the rejects file."""
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def rate(self) -> float:
        return (self.sent + self.rejected) / max(self.elapsed, 1e-9)


@dataclass
class Sender:
    """Holds valid readings until a send is worth it: `batch_size` rows per asset seen, at most
    MAX_PENDING in all, or one pacing chunk under `--rate`."""

    publisher: ReadingPublisher
    tally: Tally
    batch_size: int
    backfill: bool
    bucket: TokenBucket | None = None
    pending: list[ReadingV1] = field(default_factory=list)
    assets: set[str] = field(default_factory=set)

    def add(self, reading: ReadingV1) -> bool:
        self.pending.append(reading)
        self.assets.add(reading.asset_id)
        if self.bucket is not None:
            return len(self.pending) >= self.bucket.chunk(self.batch_size)
        return len(self.pending) >= min(MAX_PENDING, self.batch_size * len(self.assets))

    async def flush(self) -> None:
        if not self.pending:
            return
        batches = group_into_batches(self.pending, self.batch_size, backfill=self.backfill)
        if self.bucket is not None:
            await self.bucket.acquire(len(self.pending))
        await self.publisher.publish_batches(batches)
        self.tally.sent += len(self.pending)
        self.tally.messages += len(batches)
        self.pending, self.assets = [], set()


async def publish_rows(source: FileSource, sender: Sender, rejects: RejectsFile, progress: Progress) -> None:
    task = progress.add_task("publishing", total=source.total, sent=0, rejected=0, speed=0.0)
    tally = sender.tally
    now = datetime.now(UTC)
    for row in source.rows():
        result = check_row(row, now, backfill=sender.backfill)
        if isinstance(result, Rejected):
            rejects.write(result)
            tally.rejected += 1
        elif sender.add(result):
            await sender.flush()
            tally.acked_line, now = row.line, datetime.now(UTC)
            _show(progress, task, source, tally)
    await sender.flush()
    _show(progress, task, source, tally)


def _show(progress: Progress, task: TaskID, source: FileSource, tally: Tally) -> None:
    progress.update(task, completed=source.position, sent=tally.sent, rejected=tally.rejected,
                    speed=tally.rate())


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
        TextColumn("{task.fields[sent]:,} sent · {task.fields[rejected]:,} rejected · "
                   "{task.fields[speed]:,.0f} rows/s"),
        TimeRemainingColumn(), console=err_console, transient=True, disable=not err_console.is_terminal,
    )


async def run(source: FileSource, kafka: KafkaSettings, rejects: RejectsFile, tally: Tally, *,
              batch_size: int, backfill: bool, rate: float | None) -> None:
    publisher = await connect(kafka)
    bucket = TokenBucket(rate) if rate else None
    sender = Sender(publisher, tally, batch_size, backfill, bucket)
    try:
        with progress_bar() as progress:
            await publish_rows(source, sender, rejects, progress)
    finally:
        await publisher.stop()


def publish(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="CSV, JSONL or Parquet; .gz is read for CSV and JSONL")],
    ts_column: Annotated[str, typer.Option(help="CSV/Parquet: RFC 3339 or epoch-ms column")] = "timestamp",
    asset_column: Annotated[str, typer.Option(help="CSV/Parquet: the asset id column")] = "asset_id",
    asset: Annotated[str | None, typer.Option(help="CSV/Parquet: one asset for every row")] = None,
    file_format: Annotated[str | None, typer.Option("--format", help="csv, jsonl or parquet "
                                                    "(default: from the file name)")] = None,
    assume_utc: Annotated[bool, typer.Option(help="read timestamps without an offset as UTC")] = False,
    rate: Annotated[float | None, typer.Option(min=0.001, help="at most N readings/s")] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=MAX_BATCH_ROWS,
                                            help="readings per batch message")] = 1000,
    backfill: Annotated[bool, typer.Option(help="mark batches as backfill (history, not live)")] = False,
    rejects: Annotated[Path | None, typer.Option(help="where rejected rows go "
                                                 "(default: FILE.rejects.jsonl)")] = None,
) -> None:
    """Validate every row of FILE and publish the valid ones to the readings topic, in batches.

    Rejected rows go to the rejects file, each with its line and (field, reason) list.

    Exit code: 0 all sent, 1 some rows rejected, 2 configuration or broker error.

    Publishing a file again is safe: reading ids derive from the content; the archive keeps each once.

    Example: [bold]pdm publish plant.csv --asset-column machine --rate 5000[/]
    """
    settings = service_settings("publish")
    kafka = broker_settings(settings)
    rejects_path = rejects or file.with_name(f"{file.name}.rejects.jsonl")
    if rejects_path.resolve() == file.resolve():
        fail("--rejects must not be the input file")
    options = ColumnOptions(ts_column, asset_column, asset, assume_utc)
    try:
        source = open_source(file, file_format, options)
    except (FileFormatError, OSError) as exc:
        fail(f"{file}: {exc}")
    tally, sink = Tally(), RejectsFile(rejects_path)
    try:
        asyncio.run(run(source, kafka, sink, tally, batch_size=batch_size, backfill=backfill, rate=rate))
    except BrokerUnavailableError as exc:
        fail(f"{exc}{_progress_note(tally)}")
    except KeyboardInterrupt:
        fail(f"interrupted{_progress_note(tally)}", 130)
    finally:
        source.close()
        sink.close()
    _summary(tally, sink)
    raise typer.Exit(1 if tally.rejected else 0)


def _progress_note(tally: Tally) -> str:
    if not tally.sent:
        return "; nothing was published"
    return (f"; {tally.sent:,} readings were acknowledged before this (every row through line "
            f"{tally.acked_line:,}); publishing the file again is safe")


def _summary(tally: Tally, sink: RejectsFile) -> None:
    where = f" (see {sink.path})" if tally.rejected else ""
    console.print(
        f"sent {tally.sent:,} readings in {tally.messages:,} messages, rejected {tally.rejected:,} "
        f"rows{where}, in {tally.elapsed:.2f} s ({tally.sent / max(tally.elapsed, 1e-9):,.0f} readings/s)",
        highlight=False, soft_wrap=True,
    )
