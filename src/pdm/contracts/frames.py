"""FrameV1: N samples of one channel of one asset at a fixed sample rate."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from functools import cached_property
from typing import Annotated, Any, Final, Literal, NamedTuple
from uuid import UUID

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from pdm.contracts.fields import AssetId, ChannelName, EventTime, FiniteFloat
from pdm.contracts.identity import frame_id
from pdm.contracts.readings import Unit

FRAME_SCHEMA: Final = "frame.v1"
MAX_FRAME_SAMPLES: Final = 65_536
MAX_SAMPLE_RATE_HZ: Final = 1_000_000.0

SampleRate = Annotated[float, Field(strict=True, gt=0.0, le=MAX_SAMPLE_RATE_HZ, allow_inf_nan=False)]


class FrameArrays(NamedTuple):
    """A frame as a consumer of samples reads it (the scorer): no list of samples, no id."""

    asset_id: str
    channel: str
    ts_start: datetime
    sample_rate_hz: float
    array: np.ndarray  # float64, read-only


class FrameV1(BaseModel):
    """A waveform snapshot (e.g. vibration at 5 kHz) for spectral features.

    Sample i was taken at `ts_start + i / sample_rate_hz`. Without a `frame_id` one is
    derived from asset, channel, start, rate and a digest of the samples, so a re-sent
    frame is recognised.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    schema_id: Literal["frame.v1"] = Field(alias="schema")
    asset_id: AssetId
    channel: ChannelName
    ts_start: EventTime
    sample_rate_hz: SampleRate
    samples: Annotated[list[FiniteFloat], Field(min_length=1, max_length=MAX_FRAME_SAMPLES)]
    unit: Unit | None = None
    frame_id: UUID = None  # type: ignore[assignment]  # derived in _derive_id

    @model_validator(mode="before")
    @classmethod
    def _drop_null_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("frame_id", 0) is None:
            return {k: v for k, v in data.items() if k != "frame_id"}
        return data

    @model_validator(mode="after")
    def _derive_id(self) -> FrameV1:
        if self.frame_id is None:
            digest = hashlib.sha256(self.array.tobytes()).hexdigest()
            derived = frame_id(self.asset_id, self.channel, self.ts_start, self.sample_rate_hz, digest)
            object.__setattr__(self, "frame_id", derived)
        return self

    @cached_property
    def array(self) -> np.ndarray:
        """The samples as a read-only float64 array, built once per frame."""
        array = np.array(self.samples, dtype=np.float64)
        array.flags.writeable = False
        return array

    @property
    def duration(self) -> timedelta:
        return timedelta(seconds=len(self.samples) / self.sample_rate_hz)

    @property
    def ts_end(self) -> datetime:
        """The instant just after the last sample."""
        return self.ts_start + self.duration

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True, exclude_none=True).encode()
