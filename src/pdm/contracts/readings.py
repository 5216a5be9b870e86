"""ReadingV1: one timestamped set of channel values of one asset."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from pdm.contracts.errors import located_error
from pdm.contracts.event_time import DEFAULT_POLICY
from pdm.contracts.fields import (
    MAX_CHANNELS,
    AssetId,
    ChannelName,
    EventTime,
    EveryKeyMatches,
    FiniteFloat,
    to_epoch_ms,
)
from pdm.contracts.identity import reading_id

READING_SCHEMA = "reading.v1"
MAX_REVISION = 2**31 - 1

Quality = Literal["good", "uncertain", "bad"]
Unit = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=32, pattern=r"^[^\x00-\x1f\x7f]+$")
]
Revision = Annotated[int, Field(strict=True, ge=0, le=MAX_REVISION)]
# A null id is taken as none (`_drop_null_id`); the schema must say so, or its default is not valid.
SentReadingId = Annotated[
    UUID, WithJsonSchema({"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]})
]
ChannelValues = Annotated[
    dict[ChannelName, FiniteFloat], Field(min_length=1, max_length=MAX_CHANNELS), EveryKeyMatches()
]
# A window relative to the receiver's clock, checked where readings are received: no schema can state it.
TS_DESCRIPTION = (
    "event time: RFC 3339 with an offset, or epoch milliseconds; refused when more than "
    f"{DEFAULT_POLICY.max_future_skew.seconds // 60} min ahead of the receiver's clock or more than "
    f"{DEFAULT_POLICY.max_age.days} days behind it"
)


class ReadingV1(BaseModel):
    """One reading as it travels on `pdm.readings.v1`, over HTTP and through the CLI.

    `reading_id` is always set after validation: when the sender gives none it is derived
    from asset, time, revision and values, so re-sending the same reading is idempotent.
    A correction re-sends the same asset and `ts` with a higher `revision`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    schema_id: Literal["reading.v1"] = Field(default="reading.v1", alias="schema")
    asset_id: AssetId
    ts: Annotated[EventTime, Field(description=TS_DESCRIPTION)]
    values: ChannelValues
    reading_id: SentReadingId = None  # type: ignore[assignment]  # derived in _derive_id
    units: Annotated[dict[ChannelName, Unit], EveryKeyMatches()] | None = None
    quality: Annotated[dict[ChannelName, Quality], EveryKeyMatches()] | None = None
    revision: Revision = 0

    @model_validator(mode="before")
    @classmethod
    def _drop_null_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and "reading_id" in data and data["reading_id"] is None:
            return {k: v for k, v in data.items() if k != "reading_id"}
        return data

    @model_validator(mode="after")
    def _derive_id(self) -> ReadingV1:
        self._check_extras()
        if self.reading_id is None:
            derived = reading_id(self.asset_id, self.ts_ms, self.values.items(), self.revision)
            object.__setattr__(self, "reading_id", derived)
        return self

    def _check_extras(self) -> None:
        _check_known_channels(self.values, self.units, "units")
        _check_known_channels(self.values, self.quality, "quality")
        for name in ("units", "quality"):
            if getattr(self, name) == {}:
                object.__setattr__(self, name, None)

    @property
    def ts_ms(self) -> int:
        return to_epoch_ms(self.ts)

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True, exclude_none=True).encode()


def _check_known_channels(values: dict[str, float], extra: dict[str, Any] | None, field: str) -> None:
    for name in extra or ():
        if name not in values:
            raise located_error(f"{field}.{name}", "no value for this channel in values")


class UnidentifiedReading(ReadingV1):
    """ReadingV1 with every check but without deriving `reading_id` (None unless sent).

    Only for packing readings straight into batch messages: a batch without `reading_ids`
    makes its consumer derive each id, so deriving them here (~5 µs each) would be wasted.
    Never hand one on as a ReadingV1.
    """

    @model_validator(mode="after")
    def _derive_id(self) -> UnidentifiedReading:
        self._check_extras()
        return self
