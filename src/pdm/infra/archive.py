"""The reading archive: appends at COPY speed that stay idempotent on (reading_id, revision, ts)."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import numpy as np
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

# PostgreSQL's binary COPY framing and the element type oids of text[] and float8[].
COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
COPY_TRAILER = struct.pack(">h", -1)
_TEXT_OID, _FLOAT8_OID = 25, 701
_PG_EPOCH_MS = 946_684_800_000  # 2000-01-01T00:00:00Z, where timestamptz counts from


@dataclass(frozen=True)
class ReadingBlock:
    """The archive rows of one batch message, column-wise.

    Encoded straight to binary COPY with numpy: every row of a block has the same length, so
    one structured array holds them all and no Python object is built per row.
    """

    asset_id: str
    ts_ms: np.ndarray  # int64 (rows,)
    ids: np.ndarray  # uint8 (rows, 16)
    revision: int
    channels: tuple[str, ...]
    values: np.ndarray  # float64 (rows, channels); NaN where the channel had no value
    flags: np.ndarray  # int (rows,)
    source_partition: int
    source_offset: int

    def __len__(self) -> int:
        return len(self.ts_ms)

    def rows(self) -> list[tuple[Any, ...]]:
        """The same rows as tuples in READING_COLUMNS order (slow; for tests and inspection)."""
        channels = list(self.channels)
        return [
            (self.asset_id, utc_from_ms(int(ts)), UUID(bytes=rid.tobytes()), self.revision, channels,
             vals.tolist(), int(flag), self.source_partition, self.source_offset)
            for ts, rid, vals, flag in zip(self.ts_ms, self.ids, self.values, self.flags, strict=True)
        ]

    def encode(self) -> bytes:
        """Binary COPY tuples (no signature or trailer) of READING_COLUMNS with READING_TYPES."""
        asset = self.asset_id.encode()
        names = _text_array(self.channels)
        width = len(self.channels)
        out = np.empty(len(self), _row_dtype(len(asset), len(names), width))
        out["nfields"] = len(READING_COLUMNS)
        out["asset"] = (len(asset), asset)
        out["ts"]["len"], out["ts"]["v"] = 8, (self.ts_ms - _PG_EPOCH_MS) * 1000
        out["id"]["len"], out["id"]["v"] = 16, self.ids
        out["revision"] = (4, self.revision)
        out["channels"] = (len(names), names)
        out["vals_head"] = (20 + 12 * width, struct.pack(">iiiii", 1, 0, _FLOAT8_OID, width, 1))
        out["vals"]["len"], out["vals"]["v"] = 8, self.values
        out["flags"]["len"], out["flags"]["v"] = 2, self.flags
        out["partition"] = (4, self.source_partition)
        out["offset"] = (8, self.source_offset)
        return out.tobytes()


def _text_array(items: Sequence[str]) -> bytes:
    encoded = [item.encode() for item in items]
    head = struct.pack(">iiiii", 1, 0, _TEXT_OID, len(encoded), 1)
    return head + b"".join(struct.pack(">i", len(e)) + e for e in encoded)


def _row_dtype(asset_len: int, names_len: int, width: int) -> np.dtype[Any]:
    def field_of(kind: str) -> np.dtype[Any]:
        return np.dtype([("len", ">i4"), ("v", kind)])

    return np.dtype([
        ("nfields", ">i2"), ("asset", field_of(f"S{asset_len}")), ("ts", field_of(">i8")),
        ("id", field_of("(16,)u1")), ("revision", field_of(">i4")), ("channels", field_of(f"S{names_len}")),
        ("vals_head", field_of("S20")), ("vals", field_of(">f8"), (width,)), ("flags", field_of(">i2")),
        ("partition", field_of(">i4")), ("offset", field_of(">i8")),
    ])


@dataclass
class ArchiveRows:
    """Rows of one consumer batch: readings as blocks, frames as tuples in archive column order."""

    blocks: list[ReadingBlock] = field(default_factory=list)
    frames: list[tuple[Any, ...]] = field(default_factory=list)
    months: set[date] = field(default_factory=set)

    @property
    def readings(self) -> list[tuple[Any, ...]]:
        """Every reading row as a tuple; built on demand, the writer never needs it."""
        return [row for block in self.blocks for row in block.rows()]

    @property
    def reading_count(self) -> int:
        return sum(len(block) for block in self.blocks)

    def add_months(self, first: datetime, last: datetime) -> None:
        """Every month from `first` to `last`, so a long backfill batch finds its partitions."""
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            self.months.add(date(year, month, 1))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)

    def __len__(self) -> int:
        return self.reading_count + len(self.frames)


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
                self._copy_blocks("readings_archive", rows.blocks)
                self._copy("frames_archive", FRAME_COLUMNS, FRAME_TYPES, rows.frames)
            return WriteResult(rows.reading_count, len(rows.frames), deduplicated=False)
        except pg_errors.UniqueViolation:
            with self.conn.transaction():
                readings = self._merge("readings_archive", READING_COLUMNS, len(rows.blocks),
                                       lambda stage: self._copy_blocks(stage, rows.blocks))
                frames = self._merge("frames_archive", FRAME_COLUMNS, len(rows.frames),
                                     lambda stage: self._copy(stage, FRAME_COLUMNS, FRAME_TYPES, rows.frames))
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

    def _copy_blocks(self, table: str, blocks: list[ReadingBlock]) -> None:
        """Pre-encoded tuples, so psycopg only forwards bytes (no per-row formatting)."""
        if not blocks:
            return
        statement = f"COPY {table} ({', '.join(READING_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
        with self.conn.cursor().copy(statement) as copy:
            copy.write(COPY_SIGNATURE)
            for block in blocks:
                copy.write(block.encode())
            copy.write(COPY_TRAILER)

    def _merge(self, table: str, columns: Sequence[str], count: int, copy_into: Callable[[str], None]) -> int:
        if not count:
            return 0
        stage = f"{table}_stage"
        self.conn.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        copy_into(stage)
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
