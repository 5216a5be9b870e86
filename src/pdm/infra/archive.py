"""The reading archive: appends at COPY speed that stay idempotent on (reading_id, revision, ts)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from pdm.infra.database import connect

READING_COLUMNS = (
    "asset_id",
    "ts",
    "reading_id",
    "revision",
    "channels",
    "vals",
    "flags",
    "source_partition",
    "source_offset",
)
READING_TYPES = ("text", "timestamptz", "uuid", "int4", "text[]", "float8[]", "int2", "int4", "int8")
FRAME_COLUMNS = (
    "asset_id",
    "channel",
    "ts_start",
    "sample_rate_hz",
    "samples",
    "frame_id",
    "flags",
    "source_partition",
    "source_offset",
)
FRAME_TYPES = ("text", "text", "timestamptz", "float8", "float8[]", "uuid", "int2", "int4", "int8")

FLAG_LATE = 1
FLAG_BACKFILL = 2


@dataclass
class ArchiveRows:
    """Rows of one consumer batch, in archive column order."""

    readings: list[tuple[Any, ...]] = field(default_factory=list)
    frames: list[tuple[Any, ...]] = field(default_factory=list)
    months: set[date] = field(default_factory=set)

    def add_months(self, first: datetime, last: datetime) -> None:
        """Every month from `first` to `last`, so a long backfill batch finds its partitions."""
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            self.months.add(date(year, month, 1))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)

    def __len__(self) -> int:
        return len(self.readings) + len(self.frames)


@dataclass
class WriteResult:
    readings_written: int
    frames_written: int
    deduplicated: bool


class ArchiveWriter:
    """One connection, one transaction per batch.

    The fast path COPYs straight into the archive. Only when that hits the primary key (a
    redelivery after a crash, or a re-sent reading) is the batch staged and merged with
    ON CONFLICT DO NOTHING; the transaction makes either path all-or-nothing.
    """

    def __init__(self, conninfo: str, schema: str) -> None:
        self.conninfo, self.schema = conninfo, schema
        self._conn: psycopg.Connection | None = None
        self._months: set[date] = set()

    @property
    def conn(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = connect(self.conninfo, self.schema)
            self._months.clear()
        return self._conn

    def write(self, rows: ArchiveRows) -> WriteResult:
        self._ensure_months(rows.months)
        try:
            with self.conn.transaction():
                self._copy("readings_archive", READING_COLUMNS, READING_TYPES, rows.readings)
                self._copy("frames_archive", FRAME_COLUMNS, FRAME_TYPES, rows.frames)
            return WriteResult(len(rows.readings), len(rows.frames), deduplicated=False)
        except pg_errors.UniqueViolation:
            with self.conn.transaction():
                readings = self._merge("readings_archive", READING_COLUMNS, READING_TYPES, rows.readings)
                frames = self._merge("frames_archive", FRAME_COLUMNS, FRAME_TYPES, rows.frames)
            return WriteResult(readings, frames, deduplicated=True)

    def _ensure_months(self, months: Iterable[date]) -> None:
        missing = sorted(set(months) - self._months)
        if not missing:
            return
        with self.conn.transaction():
            for month in missing:
                self.conn.execute("SELECT readings_archive_ensure_month(%s)", (month,))
        self._months.update(missing)

    def _copy(
        self, table: str, columns: Sequence[str], types: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None:
        if not rows:
            return
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        with self.conn.cursor().copy(statement) as copy:
            copy.set_types(list(types))
            for row in rows:
                copy.write_row(row)

    def _merge(
        self, table: str, columns: Sequence[str], types: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> int:
        if not rows:
            return 0
        stage = f"{table}_stage"
        self.conn.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        self._copy(stage, columns, types, rows)
        cols = ", ".join(columns)
        cursor = self.conn.execute(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} ON CONFLICT DO NOTHING"
        )
        return cursor.rowcount

    def latest_event_times(self, asset_ids: Sequence[str]) -> dict[str, int]:
        """Each asset's newest archived event time (epoch ms): seeds lateness after a restart."""
        if not asset_ids:
            return {}
        rows = self.conn.execute(
            "SELECT asset_id, (extract(epoch FROM max(ts)) * 1000)::bigint FROM readings_archive "
            "WHERE asset_id = ANY(%s) GROUP BY asset_id",
            (list(asset_ids),),
        ).fetchall()
        self.conn.commit()
        return {asset: int(ms) for asset, ms in rows}

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def utc_from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
