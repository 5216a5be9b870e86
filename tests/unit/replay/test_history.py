"""Latest revision per event time, flags, and the block parser, without a database."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from pdm.replay.blocks import HEADER, PG_EPOCH_US, SIGNATURE, parse_block
from pdm.replay.history import FLAG_BACKFILL, FLAG_LATE, FlagPolicy, latest_revisions

pytestmark = pytest.mark.unit


def test_a_higher_revision_at_the_same_time_replaces_the_reading_whatever_the_order() -> None:
    ts = np.array([3, 1, 2, 2, 4], np.int64)
    revision = np.array([0, 0, 1, 0, 0])
    values = np.array([[30.0], [10.0], [21.0], [20.0], [40.0]])

    history = latest_revisions("m", ts, revision, np.zeros(5, np.int16), values)

    assert history.ts_ms.tolist() == [1, 2, 3, 4]
    assert history.values[:, 0].tolist() == [10.0, 21.0, 30.0, 40.0]
    assert history.superseded == 1


def test_among_equal_revisions_the_first_reading_read_wins_as_in_the_stream() -> None:
    ts = np.array([1, 1], np.int64)

    history = latest_revisions("m", ts, np.zeros(2), np.zeros(2, np.int16), np.array([[1.0], [2.0]]))

    assert history.values[:, 0].tolist() == [1.0]


def test_late_readings_are_skipped_by_default_and_backfill_is_kept() -> None:
    flags = np.array([0, FLAG_LATE, FLAG_BACKFILL, FLAG_LATE | FLAG_BACKFILL], np.int16)
    ts, values = np.arange(4, dtype=np.int64), np.zeros((4, 1))

    default = latest_revisions("m", ts, np.zeros(4), flags, values)
    everything = latest_revisions("m", ts, np.zeros(4), flags, values, FlagPolicy(include_late=True))
    live_only = latest_revisions("m", ts, np.zeros(4), flags, values, FlagPolicy(include_backfill=False))

    assert (default.ts_ms.tolist(), default.skipped) == ([0, 2], 2)
    assert len(everything) == 4
    assert live_only.ts_ms.tolist() == [0]


def _array(oid: int, fmt: str, items: list[object], dims: tuple[int, ...]) -> bytes:
    size = struct.calcsize(">" + fmt)
    head = struct.pack(">iii", len(dims), 0, oid) + b"".join(struct.pack(">ii", d, 1) for d in dims)
    return head + b"".join(struct.pack(">i" + fmt, size, item) for item in items)


def _field(data: bytes) -> bytes:
    return struct.pack(">i", len(data)) + data


def test_a_copy_block_row_parses_into_columns_in_the_asked_channel_order() -> None:
    names = b"".join(struct.pack(">i", len(n)) + n for n in (b"b", b"a"))
    channels = struct.pack(">iiiii", 1, 0, 25, 2, 1) + names
    ts_us = [(1_700_000_000_000 * 1000) - PG_EPOCH_US, (1_700_000_001_000 * 1000) - PG_EPOCH_US]
    row = struct.pack(">h", 6) + b"".join(_field(f) for f in (
        b"pump-1", channels, _array(1184, "q", ts_us, (2,)), _array(23, "i", [0, 1], (2,)),
        _array(21, "h", [0, 2], (2,)), _array(701, "d", [1.0, 2.0, 3.0, 4.0], (2, 2))))
    raw = SIGNATURE + b"\x00" * (HEADER - len(SIGNATURE)) + row

    block = parse_block(raw)

    assert block is not None and block.asset_id == "pump-1" and block.channels == ("b", "a")
    assert block.ts_ms.tolist() == [1_700_000_000_000, 1_700_000_001_000]
    assert block.revision.tolist() == [0, 1] and block.flags.tolist() == [0, 2]
    assert block.columns(("a", "c", "b")).tolist()[1][0] == 4.0
    assert np.isnan(block.columns(("a", "c", "b"))[0, 1])


def test_a_correction_flagged_late_still_replaces_the_reading_it_corrects() -> None:
    ts = np.array([1, 2, 2], np.int64)
    revision = np.array([0, 0, 1])
    flags = np.array([0, 0, FLAG_LATE], np.int16)

    history = latest_revisions("m", ts, revision, flags, np.array([[1.0], [2.0], [9.0]]))

    assert history.values[:, 0].tolist() == [1.0, 9.0]
    assert (history.superseded, history.skipped) == (1, 0)
