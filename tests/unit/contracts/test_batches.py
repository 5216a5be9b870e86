"""ReadingBatchV1 and group_into_batches: columnar shape and exact round trips."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pdm.contracts import (
    ContractError,
    ReadingBatchV1,
    ReadingV1,
    decode_object,
    group_into_batches,
)

pytestmark = pytest.mark.unit

T0 = 1_795_255_200_000


def batch(**overrides: object) -> dict:
    payload = {
        "schema": "reading_batch.v1",
        "asset_id": "pump-7",
        "ts": [T0, T0 + 1000, T0 + 2000],
        "channels": {"vib": [0.2, None, 0.4], "temp": [70.0, 71.0, None]},
    }
    return {**payload, **overrides}


def fields_of(payload: dict) -> set[str]:
    with pytest.raises(ContractError) as caught:
        decode_object(payload)
    return {issue.field for issue in caught.value.issues}


def test_arrays_expose_the_columns_with_nan_for_missing_cells() -> None:
    message = ReadingBatchV1.model_validate(batch())

    arrays = message.to_arrays()

    assert arrays.ts_ms.dtype == np.int64 and arrays.ts_ms.tolist() == [T0, T0 + 1000, T0 + 2000]
    assert arrays.channels == ("vib", "temp")
    np.testing.assert_array_equal(arrays.channel("vib"), [0.2, np.nan, 0.4])
    assert not arrays.values.flags.writeable


def test_columns_of_unequal_length_are_rejected_naming_the_column() -> None:
    found = fields_of(batch(channels={"vib": [1.0, 2.0]}))

    assert found == {"channels.vib"}


def test_a_row_without_any_value_is_rejected() -> None:
    found = fields_of(batch(channels={"vib": [1.0, None, 2.0]}))

    assert found == {"ts[1]"}


def test_cells_must_be_finite_and_timestamps_epoch_milliseconds() -> None:
    found = fields_of(batch(ts=[T0, "2026-11-21T10:00:00Z", -5], channels={"vib": [1, 2, 1e308 * 10]}))

    assert found == {"ts[1]", "ts[2]", "channels.vib[2]"}


def test_reading_ids_must_match_the_row_count() -> None:
    found = fields_of(batch(reading_ids=["5f0c7d0e-1c7e-4d52-9a57-3b0f4a2e8d11"]))

    assert found == {"reading_ids"}


def test_quality_cannot_describe_a_missing_value() -> None:
    found = fields_of(batch(quality={"vib": ["good", "bad", None]}))

    assert found == {"quality.vib[1]"}


def test_batch_rows_get_the_same_ids_as_the_same_readings_sent_alone() -> None:
    message = ReadingBatchV1.model_validate(batch())
    alone = ReadingV1.model_validate({"asset_id": "pump-7", "ts": T0 + 1000, "values": {"temp": 71.0}})

    ids = message.ids()

    assert ids[1] == alone.reading_id
    assert [r.reading_id for r in message.readings()] == ids


def test_grouping_keeps_assets_apart_and_respects_the_batch_size() -> None:
    readings = [
        ReadingV1.model_validate({"asset_id": f"a{i % 2}", "ts": T0 + i, "values": {"x": i}})
        for i in range(10)
    ]

    batches = group_into_batches(readings, max_batch=3)

    assert [(b.asset_id, len(b.ts)) for b in batches] == [
        ("a0", 3),
        ("a1", 3),
        ("a0", 2),
        ("a1", 2),
    ]


def test_grouping_starts_a_new_batch_when_revision_or_unit_changes() -> None:
    def make(i: int, **kw: object) -> ReadingV1:
        return ReadingV1.model_validate({"asset_id": "a", "ts": T0 + i, "values": {"x": 1.0}, **kw})

    readings = [make(0), make(1, revision=1), make(2, revision=1, units={"x": "mm/s"})]

    batches = group_into_batches(readings)

    assert len(batches) == 3


channel_names = st.sampled_from(["vib", "temp", "current_a", "p.bar", "x:y/z"])
finite = st.floats(allow_nan=False, allow_infinity=False)
reading_strategy = st.builds(
    lambda asset, offset, values, rev, quality, explicit_id: ReadingV1.model_validate(
        {
            "asset_id": asset,
            "ts": datetime.fromtimestamp(T0 / 1000, UTC) + timedelta(milliseconds=offset),
            "values": values,
            "revision": rev,
            "quality": {k: quality for k in values} if quality else None,
            "units": {k: "u" for k in values if k.startswith("v")} or None,
            **({"reading_id": explicit_id} if explicit_id else {}),
        }
    ),
    asset=st.sampled_from(["pump-1", "motor-2"]),
    offset=st.integers(0, 10**9),
    values=st.dictionaries(channel_names, finite, min_size=1, max_size=4),
    rev=st.sampled_from([0, 0, 0, 1]),
    quality=st.sampled_from([None, "good", "bad"]),
    explicit_id=st.one_of(st.none(), st.uuids()),
)


@given(readings=st.lists(reading_strategy, max_size=25), max_batch=st.integers(1, 8))
def test_readings_come_back_identical_after_batching(readings: list, max_batch: int) -> None:
    batches = group_into_batches(readings, max_batch=max_batch)

    wire = [ReadingBatchV1.model_validate_json(b.to_json()) for b in batches]
    back = [r for b in wire for r in b.readings()]

    key = lambda r: (r.asset_id, r.ts, r.reading_id)  # noqa: E731
    assert sorted(back, key=key) == sorted(readings, key=key)
    assert sum(len(b.to_arrays().ts_ms) for b in wire) == len(readings)
