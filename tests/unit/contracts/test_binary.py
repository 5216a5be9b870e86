"""The binary encoding decodes to the same contracts as JSON, with the same ids and the same errors."""

import contextlib
import struct
from collections.abc import Callable
from uuid import uuid4

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pdm.contracts import (
    BatchArrays,
    ContractError,
    FrameArrays,
    FrameV1,
    ReadingBatchV1,
    decode_arrays,
    decode_message,
    decode_object,
)
from pdm.contracts.binary import MAGIC, encode_batch, encode_frame, is_binary
from tests.unit.contracts.test_batches import T0
from tests.unit.contracts.test_batches import batch as batch_payload

pytestmark = pytest.mark.unit



def batch(**overrides: object) -> ReadingBatchV1:
    return ReadingBatchV1.model_validate(batch_payload(**overrides))


def frame(**overrides: object) -> FrameV1:
    payload = {"schema": "frame.v1", "asset_id": "motor-1", "channel": "accel", "ts_start": T0,
               "sample_rate_hz": 5120.0, "samples": [0.1 * i for i in range(64)], "unit": "g"}
    return FrameV1.model_validate({**payload, **overrides})


def fields_of(raw: bytes) -> set[str]:
    with pytest.raises(ContractError) as caught:
        decode_message(raw)
    return {issue.field for issue in caught.value.issues}


def rebuilt(raw: bytes, header_change: dict[str, object] | None = None, body: bytes | None = None) -> bytes:
    """`raw` with its header fields changed and/or its arrays replaced, re-framed correctly."""
    size = struct.unpack_from("<I", raw, 6)[0]
    header = orjson.loads(raw[10:10 + size])
    start = 10 + size + (-(10 + size) % 8)
    text = orjson.dumps({**header, **(header_change or {})})
    head = raw[:6] + struct.pack("<I", len(text)) + text
    return head + b"\0" * (-len(head) % 8) + (raw[start:] if body is None else body)


def test_a_batch_round_trips_with_the_same_fields_arrays_and_derived_ids() -> None:
    original = batch(units={"temp": "degC"}, quality={"vib": ["good", None, "bad"]}, revision=2, backfill=True)
    raw = encode_batch(original)
    decoded = decode_message(raw)
    assert is_binary(raw) and not is_binary(original.to_json())
    assert isinstance(decoded, ReadingBatchV1)
    assert decoded.model_dump() == original.model_dump()
    assert decoded.ids() == original.ids()
    assert np.array_equal(decoded.arrays.values, original.arrays.values, equal_nan=True)
    assert decoded.arrays.ts_ms.tolist() == original.arrays.ts_ms.tolist()
    assert decoded.to_json() == original.to_json()


def test_given_reading_ids_travel_as_bytes() -> None:
    ids = [uuid4() for _ in range(3)]
    decoded = decode_message(encode_batch(batch(reading_ids=[str(i) for i in ids])))
    assert isinstance(decoded, ReadingBatchV1)
    assert decoded.reading_ids == ids


def test_a_frame_round_trips_with_its_id_and_array() -> None:
    original = frame()
    decoded = decode_message(encode_frame(original))
    assert isinstance(decoded, FrameV1)
    assert decoded.model_dump() == original.model_dump()
    assert decoded.array.tobytes() == original.array.tobytes()


def test_a_frame_without_an_id_gets_the_id_json_would_derive() -> None:
    original = frame()
    raw = rebuilt(encode_frame(original), {"frame_id": None})
    assert decode_message(raw).frame_id == original.frame_id  # type: ignore[union-attr]


def test_infinity_is_refused_naming_the_channel_and_row() -> None:
    raw = encode_batch(batch())
    values = np.array([[0.2, 70.0], [np.nan, np.inf], [0.4, np.nan]])
    body = np.array([T0, T0 + 1000, T0 + 2000], "<i8").tobytes() + values.astype("<f8").tobytes()
    assert fields_of(rebuilt(raw, body=body)) == {"channels.temp[1]"}


def test_a_row_without_any_value_is_refused_as_in_json() -> None:
    raw = encode_batch(batch())
    values = np.array([[0.2, 70.0], [np.nan, np.nan], [0.4, np.nan]])
    body = np.array([T0, T0 + 1000, T0 + 2000], "<i8").tobytes() + values.astype("<f8").tobytes()
    assert fields_of(rebuilt(raw, body=body)) == {"ts[1]"}


def test_out_of_range_event_times_are_refused() -> None:
    raw = encode_batch(batch())
    body = np.array([T0, -5, T0], "<i8").tobytes() + raw[-48:]
    assert fields_of(rebuilt(raw, body=body)) == {"ts[1]"}


@pytest.mark.parametrize(("change", "field"), [
    ({"asset_id": "bad id!"}, "asset_id"),
    ({"channels": ["vib", "vib"]}, "channels"),
    ({"rows": 0}, "rows"),
    ({"surprise": 1}, "surprise"),
    ({"quality": {"nope": ["good", None, None]}}, "quality.nope"),
])
def test_header_errors_name_the_field(change: dict[str, object], field: str) -> None:
    assert fields_of(rebuilt(encode_batch(batch()), change)) == {field}


def test_a_body_of_the_wrong_size_is_refused() -> None:
    raw = encode_batch(batch())
    assert fields_of(raw[:-8]) == {""}
    assert fields_of(rebuilt(raw, {"rows": 4})) == {""}


def test_unknown_versions_and_kinds_are_refused() -> None:
    raw = encode_batch(batch())
    with pytest.raises(ContractError, match="version 9"):
        decode_message(raw[:4] + b"\x09" + raw[5:])
    with pytest.raises(ContractError, match="kind"):
        decode_message(raw[:5] + b"x" + raw[6:])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=256))
def test_any_bytes_after_the_magic_raise_only_contract_errors(tail: bytes) -> None:
    with contextlib.suppress(ContractError):
        decode_message(MAGIC + tail)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=64)),
                min_size=1, max_size=50))
def test_any_valid_column_round_trips(column: list[float | None]) -> None:
    column = [*column[:-1], 1.0]  # every row needs a value: the last from here, others from `other`
    payload = {"schema": "reading_batch.v1", "asset_id": "a", "ts": list(range(T0, T0 + len(column))),
               "channels": {"x": column, "other": [0.5] * len(column)}}
    original = decode_object(payload)
    decoded = decode_message(encode_batch(original))  # type: ignore[arg-type]
    assert decoded.model_dump() == original.model_dump()
    assert decoded.ids() == original.ids()  # type: ignore[union-attr]



def _refusal(decode: Callable[[bytes], object], raw: bytes) -> set[str] | None:
    """The fields a decoder refuses `raw` for, or None when it accepts it."""
    try:
        decode(raw)
    except ContractError as exc:
        return {issue.field for issue in exc.issues}
    return None


def _with_values(values: list[list[float]], ts: list[int] | None = None) -> bytes:
    raw = encode_batch(batch())
    stamps = ts if ts is not None else [T0 + 1000 * i for i in range(len(values))]
    body = np.array(stamps, "<i8").tobytes() + np.array(values, "<f8").tobytes()
    return rebuilt(raw, {"rows": len(values)}, body)


INVALID = {
    "infinity": _with_values([[0.2, 70.0], [np.nan, np.inf], [0.4, np.nan]]),
    "empty row": _with_values([[0.2, 70.0], [np.nan, np.nan], [0.4, np.nan]]),
    "negative time": _with_values([[0.2, 70.0]] * 3, [T0, -5, T0]),
    "far-future time": _with_values([[0.2, 70.0]] * 3, [T0, 2**62, T0]),
    "unknown unit channel": rebuilt(encode_batch(batch()), {"units": {"nope": "degC"}}),
    "bad asset": rebuilt(encode_batch(batch()), {"asset_id": "bad id!"}),
    "short body": encode_batch(batch())[:-8],
    "bad frame samples": rebuilt(encode_frame(frame()), body=np.full(64, np.inf, "<f8").tobytes()),
    "unknown kind": encode_batch(batch())[:5] + b"x" + encode_batch(batch())[6:],
}


@pytest.mark.parametrize("name", INVALID)
def test_the_array_decoder_refuses_what_the_model_decoder_refuses_for_the_same_field(name: str) -> None:
    raw = INVALID[name]
    refused = _refusal(decode_message, raw)
    assert refused is not None
    assert _refusal(decode_arrays, raw) == refused


def test_the_array_decoder_returns_the_models_arrays() -> None:
    plain, with_units = batch(), batch(units={"temp": "degC"})
    for original in (plain, with_units):
        arrays = decode_arrays(encode_batch(original))
        assert isinstance(arrays, BatchArrays)
        assert arrays.ts_ms.tolist() == original.arrays.ts_ms.tolist()
        assert arrays.values.tobytes() == original.arrays.values.tobytes()
        assert (arrays.asset_id, arrays.channels) == (original.asset_id, original.arrays.channels)
    original_frame = frame()
    decoded = decode_arrays(encode_frame(original_frame))
    assert isinstance(decoded, FrameArrays)
    assert decoded.array.tobytes() == original_frame.array.tobytes()
    assert (decoded.asset_id, decoded.channel, decoded.ts_start, decoded.sample_rate_hz) == (
        original_frame.asset_id, original_frame.channel, original_frame.ts_start, original_frame.sample_rate_hz)


def test_a_batch_with_quality_codes_is_decoded_as_the_model_whose_checks_read_them() -> None:
    raw = encode_batch(batch(quality={"vib": ["good", None, "bad"]}))
    assert isinstance(decode_arrays(raw), ReadingBatchV1)
    bad = rebuilt(raw, {"quality": {"vib": ["good", "bad", "bad"]}},
                  body=np.array([T0, T0 + 1000, T0 + 2000], "<i8").tobytes()
                  + np.array([[np.nan, 70.0], [0.3, 71.0], [0.4, np.nan]], "<f8").tobytes())
    assert _refusal(decode_arrays, bad) == _refusal(decode_message, bad) == {"quality.vib[0]"}


def test_a_refused_header_is_refused_again_and_a_cached_one_decodes_alike() -> None:
    raw = INVALID["bad asset"]
    assert _refusal(decode_message, raw) == _refusal(decode_message, raw) == {"asset_id"}
    good = encode_batch(batch())
    first, again = decode_message(good), decode_message(good)
    assert first.model_dump() == again.model_dump()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from([0.0, -1.5, 1e300, np.nan, np.inf, -np.inf]), min_size=2, max_size=2),
                min_size=1, max_size=6),
       st.lists(st.sampled_from([T0, 0, -1, 2**53, T0 + 7]), min_size=6, max_size=6),
       st.sampled_from([None, {"temp": "degC"}, {"nope": "V"}]))
def test_both_decoders_accept_and_refuse_the_same_batches(
    values: list[list[float]], stamps: list[int], units: dict[str, str] | None,
) -> None:
    raw = _with_values(values, stamps[:len(values)])
    if units is not None:
        raw = rebuilt(raw, {"units": units})
    refused = _refusal(decode_message, raw)
    assert _refusal(decode_arrays, raw) == refused
    if refused is None:
        model, arrays = decode_message(raw), decode_arrays(raw)
        assert arrays.values.tobytes() == model.arrays.values.tobytes()  # type: ignore[union-attr]
