"""`pdm bench replay`: archive → feature table readings/s beside raw COPY TO of the same rows; fit time."""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import psycopg
import typer
from rich.console import Console

from pdm.infra.database import start_embedded_postgres, stop_embedded_postgres
from pdm.infra.migrations import migrate
from pdm.replay.archive import ArchiveRange
from pdm.replay.run import histories, replay_features
from pdm.scoring import DEFAULT_FEATURE_SET
from pdm.settings import ConfigurationError, load_settings
from pdm.training.fit import fit

console = Console(highlight=False)
START = datetime(2026, 1, 1, tzinfo=UTC)
SEED = """
INSERT INTO readings_archive (asset_id, ts, reading_id, revision, channels, vals, flags, source_partition,
                              source_offset)
SELECT 'asset-' || a, %(start)s::timestamptz + make_interval(secs => i), gen_random_uuid(), 0,
       ARRAY['vibration_rms', 'temperature_c', 'current_a', 'pressure_bar'],
       ARRAY[0.2 + random() * 0.01, 60 + random(), 10 + random(), 3 + random() * 0.1], 0, a, i
FROM generate_series(0, %(ticks)s - 1) i, generate_series(0, %(assets)s - 1) a ORDER BY i, a
"""
RAW = ("COPY (SELECT asset_id, ts, reading_id, revision, channels, vals, flags FROM readings_archive "
       "WHERE ts >= %s AND ts < %s) TO STDOUT (FORMAT BINARY)")


@contextmanager
def database() -> Iterator[str]:
    """The configured PostgreSQL, or a throwaway embedded one."""
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if not settings.postgres.embedded:
        yield settings.postgres.conninfo()
        return
    root = Path(tempfile.mkdtemp(prefix="pdm-bench-replay-"))
    try:
        yield start_embedded_postgres(root / "data")
    finally:
        stop_embedded_postgres(root / "data")
        shutil.rmtree(root, ignore_errors=True)


def seed(conninfo: str, schema: str, readings: int, assets: int) -> ArchiveRange:
    """Server-side rows, interleaved by asset as the gate writes them; 1 reading/s per asset."""
    ticks = readings // assets
    end = START + timedelta(seconds=ticks)
    with psycopg.connect(conninfo, options=f"-c search_path={schema}") as conn:
        month = START.date()
        while month < end.date() + timedelta(days=1):
            conn.execute("SELECT readings_archive_ensure_month(%s)", (month.replace(day=1),))
            month = (month.replace(day=1) + timedelta(days=32)).replace(day=1)
        conn.execute(SEED, {"start": START, "ticks": ticks, "assets": assets})
    with psycopg.connect(conninfo, options=f"-c search_path={schema}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE readings_archive")
    return ArchiveRange(START, end)


def raw_copy(conninfo: str, schema: str, span: ArchiveRange) -> tuple[int, float]:
    started, rows = time.perf_counter(), 0
    with (psycopg.connect(conninfo, options=f"-c search_path={schema}") as conn,
          conn.cursor().copy(RAW, (span.start, span.end)) as copy):
        for _ in copy:
            rows += 1
    return rows - 1, time.perf_counter() - started  # the last message is the trailer


def replay(conninfo: str, schema: str, span: ArchiveRange) -> tuple[int, float, object]:
    started = time.perf_counter()
    fs = DEFAULT_FEATURE_SET
    table, _ = replay_features(fs, histories(conninfo, schema, span, fs.channels))
    return table.readings, time.perf_counter() - started, table


def replay_bench(
    readings: Annotated[int, typer.Option(help="readings to archive and replay")] = 1_000_000,
    assets: Annotated[int, typer.Option(help="assets the readings are spread over")] = 8,
    runs: Annotated[int, typer.Option(help="alternating runs of each")] = 3,
    train: Annotated[bool, typer.Option(help="also time an IsolationForest and a PCA fit")] = True,
) -> None:
    """Replay throughput (archive → feature table) beside raw psycopg COPY TO of the same rows.

    Example: [bold]pdm bench replay --readings 1000000 --runs 3[/]
    """
    schema = f"bench_replay_{uuid.uuid4().hex[:8]}"
    with database() as conninfo:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            migrate(conninfo, schema)
            t0 = time.perf_counter()
            span = seed(conninfo, schema, readings, assets)
            console.print(f"seeded {readings:,} readings in {time.perf_counter() - t0:.1f} s")
            _measure(conninfo, schema, span, runs, train)
        finally:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _measure(conninfo: str, schema: str, span: ArchiveRange, runs: int, train: bool) -> None:
    raws, mine, table = [], [], None
    for _ in range(runs):
        rows, seconds = raw_copy(conninfo, schema, span)
        raws.append(rows / seconds)
        done, seconds, table = replay(conninfo, schema, span)
        mine.append(done / seconds)
    raw, ours = sorted(raws)[len(raws) // 2], sorted(mine)[len(mine) // 2]
    console.print(f"raw COPY TO        {raw:>12,.0f} readings/s (median of {runs})")
    console.print(f"replay → features  {ours:>12,.0f} readings/s ({len(table):,} feature rows)")  # type: ignore[arg-type]
    console.print(f"ratio              {ours / raw:>12.2f}")
    if train:
        for algorithm in ("isolation_forest", "pca_t2_q"):
            started = time.perf_counter()
            fitted = fit(table, algorithm, seed=0)  # type: ignore[arg-type]
            console.print(f"fit {algorithm:<17} {time.perf_counter() - started:>8.2f} s on {fitted.rows:,} "
                          f"feature rows ({table.readings:,} readings)")  # type: ignore[union-attr]
