"""The JSON schema of ReadingV1 that the API publishes states the rules its validators enforce."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from pdm.contracts import ReadingV1
from pdm.contracts.fields import MAX_ASSET_ID_LENGTH, MAX_CHANNEL_NAME_LENGTH

pytestmark = pytest.mark.unit
PROPERTIES = ReadingV1.model_json_schema()["properties"]  # as in /openapi.json: see test_openapi_spec.py
ASSET_ID = PROPERTIES["asset_id"]
CHANNEL = PROPERTIES["values"]["propertyNames"]
RFC3339_TEXT = PROPERTIES["ts"]["anyOf"][0]
NEAR_IDENTIFIERS = "Aa0._:/- \n\té"


def admits(schema: dict[str, Any], value: str) -> bool:
    """The schema's verdict on a string. Its patterns are anchored character classes, which
    Python reads as ECMA-262 does once the whole string must match (no `$` before a newline)."""
    return (
        schema["minLength"] <= len(value) <= schema["maxLength"]
        and re.fullmatch(schema["pattern"], value) is not None
    )


def accepts(**fields: Any) -> bool:
    try:
        ReadingV1.model_validate(
            {"asset_id": "pump-7", "ts": 1_795_255_200_000, "values": {"temp": 1.0}, **fields}
        )
    except ValidationError:
        return False
    return True


def candidates(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    """Strings the pattern admits, near misses of its alphabet and length, and any text."""
    return st.one_of(
        st.from_regex(schema["pattern"], fullmatch=True),
        st.text(alphabet=NEAR_IDENTIFIERS, max_size=schema["maxLength"] + 2),
        st.text(),
    )


def test_identifiers_carry_an_anchored_pattern_and_their_length_bounds() -> None:
    bounds = [(ASSET_ID["minLength"], ASSET_ID["maxLength"]), (CHANNEL["minLength"], CHANNEL["maxLength"])]

    anchored = [p.startswith("^") and p.endswith("$") for p in (ASSET_ID["pattern"], CHANNEL["pattern"])]

    assert bounds == [(1, MAX_ASSET_ID_LENGTH), (1, MAX_CHANNEL_NAME_LENGTH)]
    assert anchored == [True, True]


def test_every_map_keyed_by_channel_binds_each_key_to_the_channel_pattern() -> None:
    maps = [PROPERTIES["values"], PROPERTIES["units"]["anyOf"][0], PROPERTIES["quality"]["anyOf"][0]]

    names = [m["propertyNames"] for m in maps]

    assert names == [CHANNEL, CHANNEL, CHANNEL]
    assert not any("patternProperties" in m for m in maps)


@given(candidates(ASSET_ID))
def test_the_model_accepts_an_asset_id_exactly_when_the_published_schema_does(asset_id: str) -> None:
    assert accepts(asset_id=asset_id) == admits(ASSET_ID, asset_id)


@given(candidates(CHANNEL))
def test_the_model_accepts_a_channel_name_exactly_when_the_published_schema_does(channel: str) -> None:
    assert accepts(values={channel: 1.0}, units={channel: "mm/s"}) == admits(CHANNEL, channel)


@given(
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9998, 12, 31)),
    st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59),
    st.sampled_from(["seconds", "milliseconds", "microseconds"]),
)
def test_rfc3339_text_the_model_accepts_matches_the_published_pattern(
    moment: datetime, offset_minutes: int, precision: str
) -> None:
    text = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes))).isoformat(timespec=precision)

    assert accepts(ts=text)
    assert re.fullmatch(RFC3339_TEXT["pattern"], text)


def test_event_time_text_without_an_offset_is_refused_by_the_schema_and_the_model() -> None:
    text = datetime(2026, 11, 21, 10, tzinfo=UTC).isoformat().removesuffix("+00:00")

    assert re.fullmatch(RFC3339_TEXT["pattern"], text) is None
    assert not accepts(ts=text)
