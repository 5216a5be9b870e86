"""Field types shared by every wire contract: identifiers, finite numbers, event time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any, Final

from pydantic import (
    AfterValidator,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

IDENTIFIER_CHARS: Final = "A-Z a-z 0-9 . _ : / -"
MAX_ASSET_ID_LENGTH: Final = 128
MAX_CHANNEL_NAME_LENGTH: Final = 64
MAX_CHANNELS: Final = 256

_ASSET_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}")
_CHANNEL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._:/-]{0,63}")
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))?",
    re.ASCII,  # `\d` alone would take any script's digits ("٢٠٢٦" as 2026)
)
# For the JSON schema: the text `parse_event_time` accepts, with the offset it requires and each
# field in range; the calendar (30 February) and the range 1970..9999 it checks itself.
_HOUR, _MINUTE = "(?:[01][0-9]|2[0-3])", "[0-5][0-9]"
RFC3339_PATTERN: Final = (
    r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    rf"[Tt ]{_HOUR}:{_MINUTE}:{_MINUTE}(?:\.[0-9]{{1,9}})?(?:[Zz]|[+-]{_HOUR}:{_MINUTE})$"
)
_VALID: Final[dict[re.Pattern[str], set[str]]] = {_ASSET_ID: set(), _CHANNEL: set()}
_MAX_KNOWN: Final = 65_536
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
MAX_EPOCH_MS: Final = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_ONE_MS: Final = timedelta(milliseconds=1)


def _identifier(value: str, pattern: re.Pattern[str], what: str, limit: int) -> str:
    # Every message names its asset and channels again: an identifier once matched is known
    # valid (a set lookup instead of a regex match per name); bounded against hostile input.
    known = _VALID[pattern]
    if value in known:
        return value
    if pattern.fullmatch(value):
        if len(known) >= _MAX_KNOWN:
            known.clear()
        known.add(value)
        return value
    if not 1 <= len(value) <= limit:
        raise PydanticCustomError("identifier", f"{what} must be 1-{limit} characters, got {len(value)}")
    raise PydanticCustomError(
        "identifier",
        f"{value[:40]!r} is not a valid {what}: use only {IDENTIFIER_CHARS}, "
        "not starting with a punctuation mark",
    )


def check_asset_id(value: str) -> str:
    return _identifier(value, _ASSET_ID, "asset_id", MAX_ASSET_ID_LENGTH)


def check_channel_name(value: str) -> str:
    return _identifier(value, _CHANNEL, "channel name", MAX_CHANNEL_NAME_LENGTH)


def _identifier_schema(pattern: re.Pattern[str], limit: int) -> WithJsonSchema:
    # The validator's own regex, anchored: a JSON Schema `pattern` may match anywhere in the
    # string. The schema only states the rule; the AfterValidator enforces it and words refusals.
    anchored = f"^{pattern.pattern}$"
    return WithJsonSchema({"type": "string", "pattern": anchored, "minLength": 1, "maxLength": limit})


class EveryKeyMatches:
    """A dict whose key type has a pattern: in its JSON schema the pattern binds every key.

    Pydantic states a key pattern as `patternProperties`, which leaves names it does not match
    free to carry anything, while the key's validator refuses them.
    """

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        ((pattern, values),) = json_schema.pop("patternProperties").items()
        json_schema["propertyNames"] = {**json_schema.get("propertyNames", {}), "pattern": pattern}
        json_schema["additionalProperties"] = values
        return json_schema


AssetId = Annotated[
    str,
    Field(strict=True),
    AfterValidator(check_asset_id),
    _identifier_schema(_ASSET_ID, MAX_ASSET_ID_LENGTH),
]
ChannelName = Annotated[
    str,
    Field(strict=True),
    AfterValidator(check_channel_name),
    _identifier_schema(_CHANNEL, MAX_CHANNEL_NAME_LENGTH),
]
FiniteFloat = Annotated[float, Field(strict=True, allow_inf_nan=False)]
EpochMs = Annotated[int, Field(strict=True, ge=0, le=MAX_EPOCH_MS)]


def to_epoch_ms(ts: datetime) -> int:
    """Exact integer milliseconds; event time has millisecond resolution everywhere."""
    return (ts - EPOCH) // _ONE_MS


def from_epoch_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


def format_event_time(ts: datetime) -> str:
    """RFC 3339 in UTC with exactly three fractional digits, e.g. `...T10:00:00.123Z`."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def parse_event_time(value: Any) -> datetime:
    """Accept RFC 3339 text, epoch milliseconds or an aware datetime; return UTC.

    Digits below the millisecond are truncated, so the same instant always maps to
    the same stored value whichever form it arrived in (and the same reading id).
    """
    if isinstance(value, bool):
        raise _ts_error("must be an RFC 3339 string or epoch milliseconds, got a boolean")
    if isinstance(value, int):
        return _from_ms_checked(value)
    if isinstance(value, str):
        return _truncate(_parse_rfc3339(value))
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise _ts_error("datetime has no timezone; event time must be timezone-aware")
        return _truncate(_in_range(value))
    raise _ts_error(f"must be an RFC 3339 string or epoch milliseconds, got {_kind(value)}")


def _from_ms_checked(ms: int) -> datetime:
    if not 0 <= ms <= MAX_EPOCH_MS:
        raise _ts_error(f"epoch milliseconds {ms} outside 1970-01-01 .. 9999-12-31")
    return from_epoch_ms(ms)


def _parse_rfc3339(text: str) -> datetime:
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise _ts_error(f"{text[:40]!r} is not RFC 3339 (e.g. 2026-11-21T10:00:00.123Z)")
    year, month, day, hour, minute, second, frac, zulu, sign, oh, om = match.groups()
    if zulu or (sign and int(oh) <= 23 and int(om) <= 59):
        # The C parser is ~25x faster and agrees with the path below on every string this
        # grammar accepts with an in-range offset (it would take "+00:60"); where it refuses
        # one (31 February, say) the path below explains what is wrong.
        try:
            return _in_range(datetime.fromisoformat(text))
        except ValueError:
            pass
    if not zulu and not sign:
        raise _ts_error(f"{text!r} has no timezone offset; append 'Z' (UTC) or an offset like '+01:00'")
    try:
        offset = timedelta(0) if zulu else _offset(sign, int(oh), int(om))
        micros = int((frac or "0")[:6].ljust(6, "0"))
        ts = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            micros,
            tzinfo=timezone(offset),
        )
        return _in_range(ts)
    except (ValueError, OverflowError) as exc:
        raise _ts_error(f"{text!r} is not a valid date and time ({exc})") from None


def _offset(sign: str, hours: int, minutes: int) -> timedelta:
    if hours > 23 or minutes > 59:
        raise ValueError("offset out of range")
    delta = timedelta(hours=hours, minutes=minutes)
    return -delta if sign == "-" else delta


def _in_range(ts: datetime) -> datetime:
    try:
        utc = ts.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _ts_error("outside 1970-01-01 .. 9999-12-31") from None
    if utc < EPOCH:
        raise _ts_error("before 1970-01-01T00:00:00Z")
    return utc


def _truncate(ts: datetime) -> datetime:
    return ts.replace(microsecond=ts.microsecond - ts.microsecond % 1000)


def _ts_error(reason: str) -> PydanticCustomError:
    return PydanticCustomError("event_time", reason)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", float: "a fraction", type(None): "null"}.get(
        type(value), type(value).__name__
    )


EventTime = Annotated[
    datetime,
    PlainValidator(
        parse_event_time,
        json_schema_input_type=Annotated[str, Field(pattern=RFC3339_PATTERN)] | EpochMs,
    ),
    PlainSerializer(format_event_time, return_type=str),
]
"""A UTC instant with millisecond resolution; serialised as RFC 3339 `...Z`."""
