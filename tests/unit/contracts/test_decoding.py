"""decode_message and validate_readings: one door in, only ContractError out."""

import orjson
import pytest

from pdm.contracts import (
    MAX_MESSAGE_BYTES,
    ContractError,
    FrameV1,
    ItemError,
    ReadingBatchV1,
    ReadingV1,
    decode_message,
    validate_readings,
)

pytestmark = pytest.mark.unit

READING = {"asset_id": "pump-7", "ts": "2026-11-21T10:00:00.123Z", "values": {"vib": 0.21}}
T0 = 1_795_255_200_000


def issues(raw: bytes) -> dict[str, str]:
    with pytest.raises(ContractError) as caught:
        decode_message(raw)
    return dict(caught.value.issues)


def test_each_of_the_three_forms_decodes_to_its_contract() -> None:
    batch = {"schema": "reading_batch.v1", "asset_id": "a", "ts": [T0], "channels": {"x": [1.0]}}
    frame = {
        "schema": "frame.v1",
        "asset_id": "a",
        "channel": "vib",
        "ts_start": T0,
        "sample_rate_hz": 5120.0,
        "samples": [0.0, 1.0],
    }

    decoded = [decode_message(orjson.dumps(m)) for m in (READING, batch, frame)]

    assert [type(d) for d in decoded] == [ReadingV1, ReadingBatchV1, FrameV1]


def test_unknown_schema_version_is_rejected_naming_the_accepted_ones() -> None:
    found = issues(orjson.dumps({**READING, "schema": "reading.v2"}))

    assert "unknown schema 'reading.v2'" in found["schema"]
    assert "reading.v1" in found["schema"]


def test_a_batch_without_schema_gets_a_hint_instead_of_field_noise() -> None:
    found = issues(orjson.dumps({"asset_id": "a", "ts": [T0], "channels": {"x": [1.0]}}))

    assert found == {"schema": 'missing; a message with "channels" needs "schema": "reading_batch.v1"'}


def test_nan_literals_from_lenient_json_encoders_name_the_channel() -> None:
    raw = b'{"asset_id": "a", "ts": 1, "values": {"ok": 1.0, "temperature_c": NaN}}'

    found = issues(raw)

    assert set(found) == {"values.temperature_c"}


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'"text"',
        b"null",
        b"[" * 5000,
        b'{"a": "\\ud800"}',
    ],
)
def test_garbage_is_rejected_as_a_whole_message(raw: bytes) -> None:
    found = issues(raw)

    assert "" in found


def test_oversized_messages_are_rejected_before_parsing() -> None:
    found = issues(b" " * (MAX_MESSAGE_BYTES + 1))

    assert "limit" in found[""]


def test_frame_samples_must_be_finite_and_the_rate_positive() -> None:
    raw = (
        b'{"schema": "frame.v1", "asset_id": "a", "channel": "vib", "ts_start": 1,'
        b' "sample_rate_hz": 0, "samples": [0.0, 1e999]}'
    )

    found = issues(raw)

    assert set(found) == {"sample_rate_hz", "samples[1]"}


def test_a_frame_without_id_is_recognised_when_resent() -> None:
    frame = {
        "schema": "frame.v1",
        "asset_id": "a",
        "channel": "vib",
        "ts_start": T0,
        "sample_rate_hz": 100.0,
        "samples": [0.5, -0.5, 0.25],
    }

    first, again = (decode_message(orjson.dumps(frame)) for _ in range(2))

    assert isinstance(first, FrameV1) and isinstance(again, FrameV1)
    assert first.frame_id == again.frame_id
    assert first.array.tolist() == [0.5, -0.5, 0.25]
    assert first.duration.total_seconds() == pytest.approx(0.03)


def test_validate_readings_reports_every_error_with_its_index() -> None:
    items: list[object] = [READING, {**READING, "values": {"x": "hot"}}, 42, {**READING, "ts": "x"}]

    readings, errors = validate_readings(items)

    assert len(readings) == 1
    assert [(e.index, e.field) for e in errors] == [(1, "values.x"), (2, ""), (3, "ts")]
    assert all(isinstance(e, ItemError) and e.reason for e in errors)


def test_validate_readings_refuses_batches_and_frames_as_items() -> None:
    batch = {"schema": "reading_batch.v1", "asset_id": "a", "ts": [T0], "channels": {"x": [1.0]}}

    _, errors = validate_readings([batch])

    assert [(e.index, e.field) for e in errors] == [(0, "schema")]


@pytest.mark.parametrize("payload", [
    {"asset_id": "pump-1", "ts": T0, "values": {"vib": 0.3}},
    {"asset_id": "pump 1", "ts": T0, "values": {"vib": 0.3}},
    {"asset_id": "pump-1", "ts": T0, "values": {"vib": 0.3}, "units": {"temp": "degC"}},
    {"asset_id": "pump-1", "ts": "yesterday", "values": {}},
])
def test_decoding_without_ids_checks_exactly_what_decoding_with_ids_checks(payload: dict[str, object]) -> None:
    raw = orjson.dumps(payload)
    try:
        with_ids = decode_message(raw)
    except ContractError as exc:
        with pytest.raises(ContractError) as caught:
            decode_message(raw, derive_ids=False)
        assert caught.value.issues == exc.issues
        return
    without = decode_message(raw, derive_ids=False)
    assert without.reading_id is None and with_ids.reading_id is not None  # type: ignore[union-attr]
    assert without.model_dump(exclude={"reading_id"}) == with_ids.model_dump(exclude={"reading_id"})
