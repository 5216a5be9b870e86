"""The reading archive read back at COPY speed: binary COPY of fixed-width rows, parsed by numpy."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import psycopg
from psycopg import sql

from pdm.infra.database import connect
from pdm.replay.blocks import Block, parse_block
from pdm.replay.history import DEFAULT_FLAGS, FlagPolicy, History, latest_revisions

Progress = Callable[[int], None]


@dataclass(frozen=True)
class ArchiveRange:
    """Which archived readings a replay reads: assets, event times [start, end), and the watermark.

    The watermark bounds `ingested_at`: readings (corrections, backfill) that arrived after it
    are not seen, so a replay with a recorded watermark reads what an earlier one read.
    """

    start: datetime
    end: datetime
    assets: tuple[str, ...] = ()
    watermark: datetime | None = None


BLOCK_QUERY = """
COPY (SELECT asset_id, channels, array_agg(ts), array_agg(revision), array_agg(flags), array_agg(vals)
      FROM readings_archive WHERE {where}
      GROUP BY asset_id, channels, date_bin({bucket}, ts, {origin})) TO STDOUT (FORMAT BINARY)
"""
BUCKET_S = 3600


def block_query(span: ArchiveRange, bucket_s: int = BUCKET_S) -> sql.Composed:
    """One COPY row per (asset, channel list, hour): libpq hands COPY over one row at a time, so
    aggregating server-side turns a million Python-level rows into a few hundred big arrays.
    Grouping by the channel list makes `vals` a rectangular 2-D array in every block."""
    where = sql.SQL("ts >= {} AND ts < {}").format(sql.Literal(span.start), sql.Literal(span.end))
    if span.assets:
        where += sql.SQL(" AND asset_id = ANY({})").format(sql.Literal(list(span.assets)))
    if span.watermark is not None:
        where += sql.SQL(" AND ingested_at <= {}").format(sql.Literal(span.watermark))
    bucket = sql.Literal(timedelta(seconds=bucket_s))
    return sql.SQL(BLOCK_QUERY).format(where=where, bucket=bucket, origin=sql.Literal(span.start))


def copy_blocks(conn: psycopg.Connection, query: sql.Composed, progress: Progress | None = None
                ) -> Iterator[Block]:
    with conn.cursor().copy(query) as copy:
        for raw in copy:
            block = parse_block(bytes(raw))
            if block is None:
                continue
            if progress is not None:
                progress(len(block.ts_ms))
            yield block


def read_blocks(conninfo: str, schema: str, span: ArchiveRange, progress: Progress | None = None
                ) -> list[Block]:
    with connect(conninfo, schema) as conn:
        conn.execute("SET LOCAL work_mem = '256MB'")
        conn.execute("SET LOCAL enable_sort = off")  # hash the groups: sorting rows cost most of the query
        return list(copy_blocks(conn, block_query(span), progress))


def assemble(blocks: list[Block], channels: Sequence[str], policy: FlagPolicy = DEFAULT_FLAGS,
             assets: Sequence[str] = ()) -> History:
    """Blocks into per-asset histories, columns in `channels` order, latest revision per time."""
    by_asset: dict[str, list[Block]] = {}
    for block in sorted(blocks, key=lambda b: (b.asset_id, int(b.ts_ms[0]))):
        by_asset.setdefault(block.asset_id, []).append(block)
    order = list(assets) if assets else sorted(by_asset)
    history = History(tuple(channels))
    for asset in order:
        parts = by_asset.get(asset, [])
        if not parts:
            continue
        ts = np.concatenate([b.ts_ms for b in parts])
        values = np.concatenate([b.columns(channels) for b in parts])
        revision = np.concatenate([b.revision for b in parts])
        flags = np.concatenate([b.flags for b in parts])
        history.assets.append(latest_revisions(asset, ts, revision, flags, values, policy))
    return history


def read_archive(conninfo: str, schema: str, span: ArchiveRange, channels: Sequence[str],
                 policy: FlagPolicy = DEFAULT_FLAGS, progress: Progress | None = None) -> History:
    return assemble(read_blocks(conninfo, schema, span, progress), channels, policy, span.assets)


def assets_in(conn: psycopg.Connection, span: ArchiveRange) -> list[str]:
    rows = conn.execute("SELECT DISTINCT asset_id FROM readings_archive WHERE ts >= %s AND ts < %s "
                        "ORDER BY 1", (span.start, span.end)).fetchall()
    return [r[0] for r in rows]


def count_rows(conninfo: str, schema: str, span: ArchiveRange) -> int:
    """For the progress bar's total (every revision counts: the COPY sends them all)."""
    where, params = _where(span)
    with connect(conninfo, schema) as conn:
        row = conn.execute(f"SELECT count(*) FROM readings_archive WHERE {where}", params).fetchone()
    return int(row[0]) if row else 0


def watermark_of(conninfo: str, schema: str, span: ArchiveRange) -> datetime | None:
    """The newest arrival among the readings in range: what a training run records."""
    where, params = _where(span)
    with connect(conninfo, schema) as conn:
        row = conn.execute(f"SELECT max(ingested_at) FROM readings_archive WHERE {where}", params).fetchone()
    return row[0] if row else None


def _where(span: ArchiveRange) -> tuple[str, list[object]]:
    where, params = "ts >= %s AND ts < %s", [span.start, span.end]
    if span.assets:
        where += " AND asset_id = ANY(%s)"
        params.append(list(span.assets))
    if span.watermark is not None:
        where += " AND ingested_at <= %s"
        params.append(span.watermark)
    return where, params
