"""File readers for `pdm publish`: CSV, JSONL and Parquet rows streamed as candidate readings."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

import orjson

from pdm.contracts import DEFAULT_POLICY, EventTimePolicy, Issue, ReadingV1, check_event_time
from pdm.contracts import validate_readings as validate_items

FORMATS = ("csv", "jsonl", "parquet")
_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet"}
_EPOCH_MS = re.compile(r"-?\d+")
_HAS_ZONE = re.compile(r"([Zz]|[+-]\d{2}:\d{2})$")


class FileFormatError(Exception):
    """The file as a whole cannot be read: unknown format, missing column, missing pyarrow."""


@dataclass(frozen=True, slots=True)
class ColumnOptions:
    """How a table's columns map onto a reading; every other column is a channel."""

    ts_column: str = "timestamp"
    asset_column: str = "asset_id"
    asset: str | None = None
    assume_utc: bool = False


@dataclass(frozen=True, slots=True)
class Row:
    """One row of a file: `raw` is what a rejects file shows, `item` what the contract checks."""

    line: int
    raw: Any
    item: Any = None
    problem: Issue | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int
    raw: Any
    issues: tuple[Issue, ...]

    def to_json(self) -> bytes:
        issues = [{"field": i.field, "reason": i.reason} for i in self.issues]
        return orjson.dumps({"line": self.line, "raw": self.raw, "issues": issues}, default=str)


class FileSource(Protocol):
    """`position` counts toward `total` in `unit` (bytes of the file on disk, or rows)."""

    total: int | None
    unit: str

    @property
    def position(self) -> int: ...

    def rows(self) -> Iterator[Row]: ...

    def close(self) -> None: ...


def check_row(
    row: Row, now: datetime, policy: EventTimePolicy = DEFAULT_POLICY, *, backfill: bool = False
) -> ReadingV1 | Rejected:
    """The shared contract plus the gate's event-time window: a row the stream worker would
    dead-letter is rejected here, because one such row would send its whole batch to the DLQ.
    """
    if row.problem is not None:
        return Rejected(row.line, row.raw, (row.problem,))
    readings, errors = validate_items([row.item])
    if errors:
        return Rejected(row.line, row.raw, tuple(Issue(e.field, e.reason) for e in errors))
    reason = check_event_time(readings[0].ts_ms, now, policy, backfill=backfill)
    if reason is not None:
        return Rejected(row.line, row.raw, (Issue("ts", reason),))
    return readings[0]


def detect_format(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    found = _SUFFIXES.get(suffixes[-1]) if suffixes else None
    if found is None:
        raise FileFormatError(f"cannot tell the format of {path.name}; use --format csv|jsonl|parquet")
    return found


def open_source(path: Path, fmt: str | None = None, options: ColumnOptions | None = None) -> FileSource:
    fmt = fmt or detect_format(path)
    options = options or ColumnOptions()
    if fmt == "csv":
        return CsvSource(path, options)
    if fmt == "jsonl":
        return JsonLinesSource(path)
    if fmt == "parquet":
        return ParquetSource(path, options)
    raise FileFormatError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


class _TextFile:
    """A text view of a (possibly gzipped) file whose progress is the bytes read from disk."""

    unit = "bytes"

    def __init__(self, path: Path) -> None:
        self._raw = path.open("rb")
        self.total: int | None = path.stat().st_size
        stream = gzip.GzipFile(fileobj=self._raw) if path.suffix == ".gz" else self._raw
        self.text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")

    @property
    def position(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self.text.close()
        self._raw.close()


class JsonLinesSource(_TextFile):
    """One ReadingV1 object per line; blank lines are skipped."""

    def rows(self) -> Iterator[Row]:
        for number, line in enumerate(self.text, start=1):
            text = line.rstrip("\r\n")
            if text.strip():
                yield _json_row(number, text)


def _json_row(number: int, text: str) -> Row:
    try:
        return Row(number, text, orjson.loads(text))
    except orjson.JSONDecodeError as exc:
        try:  # NaN / Infinity literals: parse them so the contract names the channel
            return Row(number, text, json.loads(text))
        except ValueError:
            return Row(number, text, problem=Issue("", f"not valid JSON: {exc}"))


class CsvSource(_TextFile):
    """A header row, then one row per reading: a timestamp, an asset and one column per channel."""

    def __init__(self, path: Path, options: ColumnOptions) -> None:
        super().__init__(path)
        self.options = options
        self.reader = csv.reader(self.text)
        header = next(self.reader, None)
        if header is None:
            self.close()
            raise FileFormatError(f"{path.name} is empty: a CSV file needs a header row")
        self.columns = [name.strip() for name in header]
        try:
            self.channels = channel_columns(self.columns, options)
        except FileFormatError:
            self.close()
            raise

    def rows(self) -> Iterator[Row]:
        width = len(self.columns)
        for cells in self.reader:
            line = self.reader.line_num
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            if len(cells) != width:
                problem = Issue("", f"has {len(cells)} cells; the header has {width}")
                yield Row(line, cells, problem=problem)
                continue
            named = dict(zip(self.columns, cells, strict=True))
            yield Row(line, named, table_item(named, self.channels, self.options))


class ParquetSource:
    """Read in record batches, so a large file never sits in memory whole; needs pyarrow."""

    unit = "rows"

    def __init__(self, path: Path, options: ColumnOptions) -> None:
        try:
            import pyarrow.parquet as pq  # type: ignore[import-not-found, import-untyped, unused-ignore]
        except ImportError:
            raise FileFormatError(
                "reading Parquet needs the pyarrow package, which is not installed: "
                "pip install 'pdm-maintenance[parquet]'"
            ) from None
        self.file = pq.ParquetFile(path)
        self.options = options
        self.channels = channel_columns(list(self.file.schema_arrow.names), options)
        self.total: int | None = self.file.metadata.num_rows
        self.position = 0

    def rows(self) -> Iterator[Row]:
        for batch in self.file.iter_batches(batch_size=4096):
            for cells in batch.to_pylist():
                self.position += 1
                yield Row(self.position, cells, table_item(cells, self.channels, self.options))

    def close(self) -> None:
        self.file.close()


def channel_columns(columns: list[str], options: ColumnOptions) -> list[str]:
    """The channel columns of a table; a missing timestamp or asset column is a file error."""
    if duplicated := sorted({c for c in columns if columns.count(c) > 1}):
        raise FileFormatError(f"duplicate column(s) {', '.join(duplicated)}")
    if options.ts_column not in columns:
        raise FileFormatError(
            f"no {options.ts_column!r} column (columns: {', '.join(columns)}); name it with --ts-column"
        )
    if options.asset is None and options.asset_column not in columns:
        raise FileFormatError(
            f"no {options.asset_column!r} column; name it with --asset-column, or give --asset NAME"
        )
    return [c for c in columns if c not in (options.ts_column, options.asset_column)]


def table_item(cells: dict[str, Any], channels: list[str], options: ColumnOptions) -> dict[str, Any]:
    """A candidate reading: empty cells are channels without a value; text that is not a number
    is passed on as text, so the contract's reason names the channel."""
    values = {name: _number(cells[name]) for name in channels if cells[name] not in (None, "")}
    asset = options.asset if options.asset is not None else cells[options.asset_column]
    ts = _timestamp(cells[options.ts_column], options.assume_utc)
    return {"asset_id": asset, "ts": ts, "values": values}


def _number(cell: Any) -> Any:
    if isinstance(cell, str):
        try:
            return float(cell.strip())
        except ValueError:
            return cell
    if isinstance(cell, int) and not isinstance(cell, bool):
        return float(cell)
    return cell


def _timestamp(cell: Any, assume_utc: bool) -> Any:
    if isinstance(cell, str):
        text = cell.strip()
        if _EPOCH_MS.fullmatch(text):
            return int(text)
        return text + "Z" if assume_utc and text and not _HAS_ZONE.search(text) else text
    if isinstance(cell, datetime) and cell.tzinfo is None and assume_utc:
        return cell.replace(tzinfo=UTC)
    return cell


class RejectsFile:
    """Created on the first rejected row, so a clean run leaves none (and no stale one) behind."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._handle: IO[bytes] | None = None
        path.unlink(missing_ok=True)

    def write(self, rejected: Rejected) -> None:
        if self._handle is None:
            self._handle = self.path.open("wb")
        self._handle.write(rejected.to_json() + b"\n")
        self.count += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
