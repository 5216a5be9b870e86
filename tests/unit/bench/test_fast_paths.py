"""The speed-ups `pdm bench ingest` proved give exactly the results of the paths they replace."""

import uuid
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from psycopg import postgres
from psycopg._copy_base import format_row_binary
from psycopg.adapt import Transformer
from psycopg.pq import Format

from pdm.contracts import ReadingBatchV1, group_into_batches, reading_id, validate_readings
from pdm.contracts.decoding import batch_valid_readings
from pdm.infra.archive import READING_TYPES, ReadingBlock

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
T0 = 1_795_255_200_000
finite = st.floats(allow_nan=False, allow_infinity=False)
cell = st.one_of(st.none(), finite, st.integers(-1000, 1000))
channel = st.sampled_from(["vib", "temp", "current_a", "p.bar", "x:y/z", "Z9"])


def psycopg_rows(rows: list[tuple]) -> bytes:
    """What psycopg's own binary COPY row writer produces for these tuples."""
    tx = Transformer()
    tx.set_dumper_types([postgres.types.get_oid(t) for t in READING_TYPES], Format.BINARY)
    out = bytearray()
    for row in rows:
        format_row_binary(row, tx, out)
    return bytes(out)


@given(
    values=st.lists(st.lists(st.one_of(finite, st.just(float("nan"))), min_size=3, max_size=3),
                    min_size=1, max_size=20),
    offset=st.integers(0, 2**62), revision=st.integers(0, 2**31 - 1), late=st.booleans(),
)
def test_an_encoded_block_is_byte_for_byte_what_psycopg_writes(
    values: list[list[float]], offset: int, revision: int, late: bool
) -> None:
    rows = len(values)
    block = ReadingBlock(
        "pump-7", np.arange(rows, dtype=np.int64) * 1001 + T0, np.random.default_rng(1).integers(
            0, 256, (rows, 16), dtype=np.uint8), revision, ("vib", "temp", "current_a"),
        np.array(values, dtype=np.float64), np.full(rows, 3 if late else 2), 7, offset)

    assert block.encode() == psycopg_rows(block.rows())


@given(columns=st.dictionaries(channel, st.lists(cell, min_size=4, max_size=4), min_size=1, max_size=4),
       revision=st.sampled_from([0, 3]))
def test_batch_ids_are_the_ids_each_reading_derives_alone(columns: dict, revision: int) -> None:
    ts = [T0 + i for i in range(4)]
    rows = [{n: col[i] for n, col in columns.items() if col[i] is not None} for i in range(4)]
    if not all(rows):
        return  # a row without values is not a valid batch row
    message = ReadingBatchV1.model_validate(
        {"schema": "reading_batch.v1", "asset_id": "a-1", "ts": ts, "channels": columns, "revision": revision})

    ids = message.ids()

    assert ids == [reading_id("a-1", t, row.items(), revision) for t, row in zip(ts, rows, strict=True)]
    assert [uuid.UUID(bytes=raw.tobytes()) for raw in message.id_bytes()] == ids


item = st.fixed_dictionaries(
    {"asset_id": st.sampled_from(["pump-1", "motor-2"]),
     "ts": st.one_of(st.integers(T0 - 10**8, T0), st.just("2026-11-21T09:59:00.123Z")),
     "values": st.dictionaries(channel, finite, min_size=1, max_size=3)},
    optional={"revision": st.sampled_from([0, 1]), "reading_id": st.one_of(st.none(), st.uuids().map(str)),
              "units": st.just({"vib": "mm/s"})},
)


@given(items=st.lists(item, min_size=1, max_size=30), max_batch=st.integers(1, 8))
def test_the_fast_path_publishes_what_validating_and_grouping_each_reading_would(
    items: list[dict], max_batch: int
) -> None:
    readings, errors = validate_readings(items, now=NOW)

    fast = batch_valid_readings(items, now=NOW, max_batch=max_batch)

    if errors:
        assert fast is None
    else:
        assert fast is not None
        assert [b.to_json() for b in fast] == [b.to_json() for b in group_into_batches(readings, max_batch)]


def test_an_invalid_or_stale_item_sends_the_batch_down_the_itemised_path() -> None:
    good = {"asset_id": "pump-1", "ts": T0, "values": {"vib": 0.2}}

    assert batch_valid_readings([good, {**good, "values": {"vib": "x"}}], now=NOW, max_batch=10) is None
    assert batch_valid_readings([good, {**good, "ts": T0 + 10**9}], now=NOW, max_batch=10) is None
    assert batch_valid_readings([good, [1]], now=NOW, max_batch=10) is None
    assert batch_valid_readings([], now=NOW, max_batch=10) is None
