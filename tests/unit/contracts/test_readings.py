"""ReadingV1: identity, event time and value rules."""

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest

from pdm.contracts import ContractError, ReadingV1, decode_object

pytestmark = pytest.mark.unit

BASE = {"asset_id": "pump-7", "ts": "2026-11-21T10:00:00.123Z", "values": {"vib": 0.21}}


def reasons(payload: dict) -> dict[str, str]:
    with pytest.raises(ContractError) as caught:
        decode_object(payload)
    return {issue.field: issue.reason for issue in caught.value.issues}


def test_reading_without_id_gets_the_same_id_when_resent() -> None:
    first = ReadingV1.model_validate(BASE)

    again = ReadingV1.model_validate(dict(BASE))

    assert first.reading_id == again.reading_id
    assert isinstance(first.reading_id, UUID)


def test_derived_id_ignores_the_order_of_the_values_object() -> None:
    a = ReadingV1.model_validate({**BASE, "values": {"x": 1.0, "y": 2.5}})

    b = ReadingV1.model_validate({**BASE, "values": {"y": 2.5, "x": 1}})

    assert a.reading_id == b.reading_id


def test_derived_id_changes_with_any_value_time_asset_or_revision() -> None:
    base = ReadingV1.model_validate(BASE)

    variants = [
        {**BASE, "values": {"vib": 0.22}},
        {**BASE, "ts": "2026-11-21T10:00:00.124Z"},
        {**BASE, "asset_id": "pump-8"},
        {**BASE, "revision": 1},
    ]

    ids = {ReadingV1.model_validate(v).reading_id for v in variants}
    assert base.reading_id not in ids and len(ids) == 4


def test_given_reading_id_is_kept() -> None:
    given = "5f0c7d0e-1c7e-4d52-9a57-3b0f4a2e8d11"

    reading = ReadingV1.model_validate({**BASE, "reading_id": given})

    assert reading.reading_id == UUID(given)


def test_the_same_instant_in_any_form_is_the_same_reading() -> None:
    forms = [
        "2026-11-21T10:00:00.123Z",
        "2026-11-21T11:00:00.123456+01:00",
        1795255200123,
        datetime(2026, 11, 21, 5, 0, 0, 123999, tzinfo=timezone(timedelta(hours=-5))),
    ]

    readings = [ReadingV1.model_validate({**BASE, "ts": ts}) for ts in forms]

    assert {r.ts for r in readings} == {datetime(2026, 11, 21, 10, 0, 0, 123000, tzinfo=UTC)}
    assert len({r.reading_id for r in readings}) == 1


def test_naive_timestamp_is_rejected_with_a_hint_to_add_an_offset() -> None:
    found = reasons({**BASE, "ts": "2026-11-21T10:00:00"})

    assert "no timezone offset" in found["ts"]


@pytest.mark.parametrize("ts", ["yesterday", "2026-11-21", "2026-13-01T00:00:00Z", True, 1.5, -1, None, [1]])
def test_malformed_event_times_are_rejected(ts: object) -> None:
    found = reasons({**BASE, "ts": ts})

    assert set(found) == {"ts"}


def test_nan_and_infinity_are_rejected_naming_the_channel() -> None:
    found = reasons({**BASE, "values": {"vib": 1.0, "temperature_c": float("nan")}})

    assert "finite" in found["values.temperature_c"]


@pytest.mark.parametrize("asset_id", ["", "pump 7", "pump\x007", "-pump", "p" * 129, "pümp"])
def test_asset_ids_outside_the_safe_charset_are_rejected(asset_id: str) -> None:
    found = reasons({**BASE, "asset_id": asset_id})

    assert "asset_id" in found


def test_channel_names_with_control_characters_are_rejected() -> None:
    found = reasons({**BASE, "values": {"vib\n": 1.0}})

    assert any(field.startswith("values.") for field in found)


def test_empty_and_oversized_value_maps_are_rejected() -> None:
    empty = reasons({**BASE, "values": {}})
    huge = reasons({**BASE, "values": {f"c{i}": 1.0 for i in range(257)}})

    assert "values" in empty and "values" in huge


def test_strings_and_booleans_are_not_numbers() -> None:
    found = reasons({**BASE, "values": {"a": "1.5", "b": True}})

    assert set(found) == {"values.a", "values.b"}


def test_units_and_quality_must_name_channels_that_have_values() -> None:
    found = reasons({**BASE, "units": {"temp": "degC"}, "quality": {"t": "good"}})
    bad_code = reasons({**BASE, "quality": {"vib": "great"}})

    assert "units.temp" in found
    assert "quality.vib" in bad_code


def test_unknown_fields_and_negative_revisions_are_rejected() -> None:
    found = reasons({**BASE, "valeus": {}, "revision": -1})

    assert found["valeus"] == "unknown field" and "revision" in found


def test_reading_json_round_trips_exactly() -> None:
    reading = ReadingV1.model_validate(
        {**BASE, "units": {"vib": "mm/s"}, "quality": {"vib": "uncertain"}, "revision": 2}
    )

    again = ReadingV1.model_validate_json(reading.to_json())

    assert again == reading
