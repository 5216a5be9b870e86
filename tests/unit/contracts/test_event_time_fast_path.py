"""The fast RFC 3339 path parses exactly what the grammar-driven path does, error for error."""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pdm.contracts import fields

pytestmark = pytest.mark.unit


def reference_parse(text: str) -> datetime:
    """Field-by-field construction from the grammar's groups: the definition of the result."""
    match = fields._RFC3339.fullmatch(text)
    assert match is not None
    year, month, day, hour, minute, second, frac, zulu, sign, oh, om = match.groups()
    offset = timedelta(0) if zulu else fields._offset(sign, int(oh), int(om))
    micros = int((frac or "0")[:6].ljust(6, "0"))
    ts = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micros,
                  tzinfo=timezone(offset))
    return fields._in_range(ts)


rfc3339_like = st.builds(
    lambda y, mo, d, sep, h, mi, s, frac, zone: f"{y:04d}-{mo:02d}-{d:02d}{sep}{h:02d}:{mi:02d}:{s:02d}{frac}{zone}",
    st.integers(1970, 9999), st.integers(1, 12), st.integers(1, 31), st.sampled_from("Tt "),
    st.integers(0, 23), st.integers(0, 59), st.integers(0, 59),
    st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=9).map(lambda d: "." + d)),
    st.one_of(st.sampled_from(["Z", "z"]), st.builds(
        lambda sign, h, m: f"{sign}{h:02d}:{m:02d}", st.sampled_from("+-"), st.integers(0, 25), st.integers(0, 60))),
)


def _outcome(parse, text: str) -> object:  # type: ignore[no-untyped-def]
    try:
        return parse(text)
    except Exception:
        return "error"


@settings(max_examples=3000)
@given(text=rfc3339_like)
def test_fast_path_equals_reference_parse(text: str) -> None:
    fast = _outcome(fields._parse_rfc3339, text)

    reference = _outcome(reference_parse, text)

    assert fast == reference
    if isinstance(fast, datetime) and isinstance(reference, datetime):
        assert fast.utcoffset() == reference.utcoffset() == timedelta(0)
