"""Property: whatever bytes arrive, decode_message raises nothing but ContractError."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pdm.contracts import ContractError, decode_message

pytestmark = pytest.mark.unit

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30))
json_ish = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=25,
)
KEYS = [
    "schema",
    "asset_id",
    "ts",
    "values",
    "reading_id",
    "units",
    "quality",
    "revision",
    "channels",
    "reading_ids",
    "backfill",
    "channel",
    "ts_start",
    "sample_rate_hz",
    "samples",
    "frame_id",
    "unit",
]
SCHEMAS = st.sampled_from(["reading.v1", "reading_batch.v1", "frame.v1", "reading.v9", 1])
contract_shaped = st.dictionaries(st.sampled_from(KEYS), st.one_of(json_ish, SCHEMAS), min_size=1, max_size=8)


def assert_only_contract_errors(raw: bytes) -> None:
    try:
        decode_message(raw)
    except ContractError as error:
        assert error.issues
        assert all(isinstance(f, str) and isinstance(r, str) and r for f, r in error.issues)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_contract_errors(raw: bytes) -> None:
    assert_only_contract_errors(raw)


@settings(max_examples=150, deadline=None)
@given(contract_shaped)
def test_contract_shaped_objects_raise_only_contract_errors(payload: dict) -> None:
    raw = json.dumps(payload).encode()

    assert_only_contract_errors(raw)


@settings(max_examples=150, deadline=None)
@given(json_ish)
def test_arbitrary_json_values_raise_only_contract_errors(value: object) -> None:
    raw = json.dumps(value).encode()

    assert_only_contract_errors(raw)
