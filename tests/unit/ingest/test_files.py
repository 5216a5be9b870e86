"""File readers of `pdm publish`: CSV variants, JSONL, and the reasons bad rows are rejected."""

from __future__ import annotations

import gzip
import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from pdm.contracts import ReadingV1
from pdm.ingest.files import (
    ColumnOptions,
    FileFormatError,
    Rejected,
    RejectsFile,
    check_row,
    open_source,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def checked(path: Path, options: ColumnOptions | None = None, fmt: str | None = None) -> list:
    source = open_source(path, fmt, options)
    try:
        return [check_row(row, NOW) for row in source.rows()]
    finally:
        source.close()


def reasons(result: object) -> dict[str, str]:
    assert isinstance(result, Rejected), result
    return {issue.field: issue.reason for issue in result.issues}


def test_csv_row_becomes_a_reading_with_one_value_per_channel_column(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "timestamp,asset_id,vib,temp\n2026-11-21T10:00:00.5Z,pump-1,0.2,71\n")

    [reading] = checked(path)

    assert isinstance(reading, ReadingV1)
    assert reading.asset_id == "pump-1" and reading.values == {"vib": 0.2, "temp": 71.0}
    assert reading.ts == datetime(2026, 11, 21, 10, 0, 0, 500_000, tzinfo=UTC)


def test_csv_accepts_epoch_ms_custom_columns_and_a_fixed_asset(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "when,vib\n1795255200000,0.3\n")
    options = ColumnOptions(ts_column="when", asset="motor-2")

    [reading] = checked(path, options)

    assert reading.asset_id == "motor-2" and reading.ts_ms == 1795255200000


def test_empty_cell_means_the_channel_has_no_value(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "timestamp,asset_id,vib,temp\n1795255200000,pump-1,,70\n")

    [reading] = checked(path)

    assert reading.values == {"temp": 70.0}


def test_gzipped_csv_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.csv.gz"
    path.write_bytes(gzip.compress("\ufefftimestamp,asset_id,vib\n1795255200000,pump-1,1\n".encode()))

    [reading] = checked(path)

    assert reading.values == {"vib": 1.0}


def test_naive_timestamps_are_rejected_unless_assumed_utc(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "timestamp,asset_id,vib\n2026-11-21 10:00:00.000000,pump-1,1\n")

    [rejected] = checked(path)
    [reading] = checked(path, ColumnOptions(assume_utc=True))

    assert "no timezone offset" in reasons(rejected)["ts"]
    assert reading.ts == datetime(2026, 11, 21, 10, tzinfo=UTC)


def test_bad_csv_rows_are_rejected_with_their_line_and_reasons(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", (
        "timestamp,asset_id,vib,temp\n"
        "1795255200000,pump-1,0.2,hot\n"
        "1795255200000,pump-1,nan,1\n"
        "1795255200000,pump 1,0.2,1\n"
        "1795255200000,pump-1,,\n"
        "1795255200000,pump-1\n"
        "1895255200000,pump-1,1,1\n"
    ))

    results = checked(path)

    assert [r.line for r in results] == [2, 3, 4, 5, 6, 7]
    assert reasons(results[0]) == {"values.temp": "must be a number"}
    assert "finite" in reasons(results[1])["values.vib"]
    assert "not a valid asset_id" in reasons(results[2])["asset_id"]
    assert "at least 1" in reasons(results[3])["values"]
    assert reasons(results[4]) == {"": "has 2 cells; the header has 4"}
    assert "in the future" in reasons(results[5])["ts"]
    assert results[0].raw == {"timestamp": "1795255200000", "asset_id": "pump-1", "vib": "0.2", "temp": "hot"}


def test_a_csv_without_the_timestamp_column_is_a_file_error(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "time,asset_id,vib\n")

    with pytest.raises(FileFormatError, match="no 'timestamp' column.*--ts-column"):
        open_source(path)


def test_a_csv_without_an_asset_column_needs_the_asset_option(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "timestamp,vib\n")

    with pytest.raises(FileFormatError, match="--asset NAME"):
        open_source(path)


def test_jsonl_lines_are_readings_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    good = {"asset_id": "pump-1", "ts": "2026-11-21T10:00:00Z", "values": {"vib": 0.2}, "revision": 2}
    path = write(tmp_path, "a.jsonl", f"{orjson.dumps(good).decode()}\n\n")

    [reading] = checked(path)

    assert reading.revision == 2 and reading.values == {"vib": 0.2}


def test_bad_jsonl_lines_are_rejected_with_reasons(tmp_path: Path) -> None:
    path = write(tmp_path, "a.ndjson", (
        "{not json\n"
        '{"asset_id": "p", "ts": 1795255200000, "values": {"vib": NaN}}\n'
        '[1, 2]\n'
        '{"asset_id": "p", "ts": 1795255200000, "values": {"vib": 1}, "colour": "red"}\n'
    ))

    results = checked(path)

    assert "not valid JSON" in reasons(results[0])[""]
    assert "finite" in reasons(results[1])["values.vib"]
    assert reasons(results[2]) == {"": "each reading must be a JSON object"}
    assert reasons(results[3]) == {"colour": "unknown field"}
    assert results[0].raw == "{not json" and results[3].line == 4


def test_format_comes_from_the_file_name_or_the_format_option(tmp_path: Path) -> None:
    path = write(tmp_path, "data.txt", "timestamp,asset_id,v\n1795255200000,p,1\n")

    with pytest.raises(FileFormatError, match="--format"):
        open_source(path)
    [reading] = checked(path, fmt="csv")

    assert reading.values == {"v": 1.0}


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is not None, reason="pyarrow is installed")
def test_parquet_without_pyarrow_names_the_missing_package(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    path.write_bytes(b"PAR1")

    with pytest.raises(FileFormatError, match="pyarrow"):
        open_source(path)


def test_parquet_rows_are_read_like_csv_rows(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({"timestamp": [datetime(2026, 11, 21, 10, tzinfo=UTC)], "asset_id": ["p-1"], "vib": [0.5]})
    pq.write_table(table, tmp_path / "a.parquet")

    [reading] = checked(tmp_path / "a.parquet")

    assert reading.values == {"vib": 0.5} and reading.asset_id == "p-1"


def test_rejects_file_appears_only_when_a_row_is_rejected(tmp_path: Path) -> None:
    stale = write(tmp_path, "a.csv.rejects.jsonl", "old\n")
    clean = RejectsFile(stale)
    clean.close()
    dirty = RejectsFile(tmp_path / "b.rejects.jsonl")

    dirty.write(Rejected(3, {"vib": "x"}, ()))
    dirty.close()

    assert not stale.exists()
    assert orjson.loads(dirty.path.read_bytes()) == {"line": 3, "raw": {"vib": "x"}, "issues": []}
