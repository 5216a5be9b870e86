"""The binary encoding of `reading_batch.v1` and `frame.v1`: the same contracts, numbers as raw arrays.

JSON spends more time turning text into floats than the worker spends on features and scores,
so high-rate producers (gateways, `pdm publish --encoding binary`, the simulator) may send the
numbers as little-endian arrays instead. A message is either JSON or this; both decode to the
same `ReadingBatchV1` / `FrameV1`, with the same validation and the same reading and frame ids.

Layout (all integers little-endian)::

    0   4  magic  b"\\x00PDM" (no JSON text starts with NUL)
    4   1  format version, 1
    5   1  kind: b"b" reading batch, b"f" frame
    6   4  uint32 H, length of the header
    10  H  header: a UTF-8 JSON object (below)
    ..     zero bytes up to the next multiple of 8 from the start
    ..     arrays, in this order, each a multiple of 8 bytes long

    batch header: schema, asset_id, rows, channels (names, in column order), and optionally
                  units, quality, revision, backfill, reading_ids (true when ids are sent)
    batch arrays: ts int64[rows] (epoch ms); values float64[rows][channels] row-major, NaN
                  meaning "no value" (JSON null); if reading_ids: uint8[rows][16]
    frame header: schema, asset_id, channel, ts_start, sample_rate_hz, samples (the count),
                  and optionally unit, frame_id
    frame arrays: samples float64[samples]
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from typing import Annotated, Any, Final, Literal
from uuid import UUID

import numpy as np
import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from pdm.contracts.batches import (
    BATCH_SCHEMA,
    MAX_BATCH_ROWS,
    BatchArrays,
    ReadingBatchV1,
    check_known_channels,
    check_rows_have_values,
)
from pdm.contracts.errors import MESSAGE_FIELD, ContractError
from pdm.contracts.fields import MAX_CHANNELS, MAX_EPOCH_MS, AssetId, ChannelName, EventTime, to_epoch_ms
from pdm.contracts.frames import FRAME_SCHEMA, MAX_FRAME_SAMPLES, FrameArrays, FrameV1, SampleRate
from pdm.contracts.identity import frame_id
from pdm.contracts.readings import Quality, Revision, Unit

MAGIC: Final = b"\x00PDM"
VERSION: Final = 1
_KIND_BATCH, _KIND_FRAME = b"b", b"f"
_PREFIX = struct.Struct("<4sBcI")
MAX_HEADER_BYTES: Final = 64 * 1024
_FINITE: Final = "must be a finite number (NaN and Infinity are rejected)"


class _BatchHeader(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    schema_id: Literal["reading_batch.v1"] = Field(alias="schema")
    asset_id: AssetId
    rows: Annotated[int, Field(strict=True, ge=1, le=MAX_BATCH_ROWS)]
    channels: Annotated[list[ChannelName], Field(min_length=1, max_length=MAX_CHANNELS)]
    units: dict[ChannelName, Unit] | None = None
    quality: dict[ChannelName, list[Quality | None]] | None = None
    revision: Revision = 0
    backfill: bool = False
    reading_ids: bool = False

    @field_validator("channels")
    @classmethod
    def _unique(cls, names: list[str]) -> list[str]:
        if len(set(names)) != len(names):
            raise ValueError("channel names must be unique")
        return names


class _FrameHeader(BaseModel):
    """Every FrameV1 field but the samples, which follow as an array; `samples` is their count."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    schema_id: Literal["frame.v1"] = Field(alias="schema")
    asset_id: AssetId
    channel: ChannelName
    ts_start: EventTime
    sample_rate_hz: SampleRate
    samples: Annotated[int, Field(strict=True, ge=1, le=MAX_FRAME_SAMPLES)]
    unit: Unit | None = None
    frame_id: UUID | None = None


_HEADER_MODELS: Final[dict[bytes, type[BaseModel]]] = {_KIND_BATCH: _BatchHeader, _KIND_FRAME: _FrameHeader}
_HEADER_CACHE: dict[bytes, Any] = {}
_HEADER_CACHE_SIZE: Final = 4096
_CACHED_HEADER_BYTES: Final = 1024  # bounds the cache's memory; quality headers (per row) are never kept


def is_binary(raw: bytes) -> bool:
    return raw[:4] == MAGIC


def encode_batch(batch: ReadingBatchV1) -> bytes:
    arrays = batch.arrays
    extra: dict[str, Any] = {name: value for name in ("units", "quality") if (value := getattr(batch, name))}
    if batch.revision:
        extra["revision"] = batch.revision
    if batch.backfill:
        extra["backfill"] = True
    ids = None if batch.reading_ids is None else b"".join(u.bytes for u in batch.reading_ids)
    return encode_columns(batch.asset_id, arrays.ts_ms, arrays.channels, arrays.values, ids, **extra)


def encode_columns(asset_id: str, ts_ms: np.ndarray, channels: Sequence[str], values: np.ndarray,
                   reading_ids: bytes | None = None, **header_fields: Any) -> bytes:
    """A batch straight from arrays (values: rows x channels, NaN for no value), for producers that
    hold numpy data; nothing is validated here, the consumer's decoder validates everything."""
    header: dict[str, Any] = {"schema": BATCH_SCHEMA, "asset_id": asset_id, "rows": len(ts_ms),
                              "channels": list(channels), **header_fields}
    parts = [np.ascontiguousarray(ts_ms, "<i8").tobytes(), np.ascontiguousarray(values, "<f8").tobytes()]
    if reading_ids is not None:
        header["reading_ids"] = True
        parts.append(_pad(reading_ids))
    return _frame_bytes(_KIND_BATCH, header, parts)


def encode_frame(frame: FrameV1) -> bytes:
    header: dict[str, Any] = {"schema": FRAME_SCHEMA, "asset_id": frame.asset_id, "channel": frame.channel,
                              "ts_start": to_epoch_ms(frame.ts_start), "sample_rate_hz": frame.sample_rate_hz,
                              "samples": len(frame.samples), "frame_id": str(frame.frame_id)}
    if frame.unit is not None:
        header["unit"] = frame.unit
    return _frame_bytes(_KIND_FRAME, header, [np.ascontiguousarray(frame.array, "<f8").tobytes()])


def _frame_bytes(kind: bytes, header: dict[str, Any], parts: list[bytes]) -> bytes:
    text = orjson.dumps(header)
    head = _PREFIX.pack(MAGIC, VERSION, kind, len(text)) + text
    return b"".join([_pad(head), *parts])


def _pad(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 8)


def decode_binary(raw: bytes) -> ReadingBatchV1 | FrameV1:
    """Validate a binary message; raises only ContractError, like `decode_message`."""
    kind, head, body = _parts(raw)
    if kind == _KIND_BATCH:
        return _batch_model(head, _batch_arrays(head, body), body)
    return _frame_model(head, _frame_samples(head, body))


def decode_binary_arrays(raw: bytes) -> BatchArrays | FrameArrays | ReadingBatchV1:
    """`decode_binary` for a consumer of arrays (the scorer): it accepts and rejects exactly the
    same messages, but returns the arrays without the contract model's Python lists (most of a
    model's decode) or derived ids. A batch with quality codes, whose checks read the model's
    lists, comes back as the model."""
    kind, head, body = _parts(raw)
    if kind == _KIND_FRAME:
        return FrameArrays(head.asset_id, head.channel, head.ts_start, head.sample_rate_hz,
                           _frame_samples(head, body))
    arrays = _batch_arrays(head, body)
    if head.quality:
        return _batch_model(head, arrays, body)
    try:  # the checks of the model's `_check_shape` that a batch without quality can fail
        check_known_channels("units", head.units, head.channels)
        if not _all_finite(arrays.values):
            check_rows_have_values(arrays.values)
    except (ValueError, PydanticCustomError) as exc:
        raise _as_contract_error(exc) from None
    return arrays


def _parts(raw: bytes) -> tuple[bytes, Any, memoryview]:
    """(kind, validated header, arrays) of a binary message."""
    if len(raw) < _PREFIX.size:
        raise _whole("binary message is shorter than its prefix")
    _, version, kind, size = _PREFIX.unpack_from(raw)
    if version != VERSION:
        raise _whole(f"binary format version {version}; this decoder reads {VERSION}")
    if kind not in _HEADER_MODELS:
        raise _whole(f"unknown binary message kind {kind!r}; expected b'b' or b'f'")
    if size > MAX_HEADER_BYTES or _PREFIX.size + size > len(raw):
        raise _whole(f"binary header of {size} bytes does not fit the message")
    body = memoryview(raw)[_PREFIX.size + size + (-(_PREFIX.size + size) % 8):]
    return kind, _header(kind, raw[_PREFIX.size:_PREFIX.size + size]), body


def _header(kind: bytes, text: bytes) -> Any:
    """A producer sends the same batch header again and again (same asset, rows and channels),
    so a validated one is kept by its bytes: validation is a third of a small batch's decode.
    Validated headers are frozen and shared by the messages that sent them. Frame headers carry
    their start time, so no two are alike and none is kept."""
    key = kind + text
    cached = _HEADER_CACHE.get(key)
    if cached is not None:
        return cached
    try:
        header = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise _whole(f"binary header is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(header, dict):
        raise _whole("binary header must be a JSON object")
    try:
        validated = _HEADER_MODELS[kind].model_validate(header)
    except ValidationError as exc:
        raise ContractError.from_validation_error(exc) from None
    if kind == _KIND_BATCH and len(key) <= _CACHED_HEADER_BYTES and validated.quality is None:
        if len(_HEADER_CACHE) >= _HEADER_CACHE_SIZE:
            _HEADER_CACHE.clear()
        _HEADER_CACHE[key] = validated
    return validated


def _batch_arrays(head: _BatchHeader, body: memoryview) -> BatchArrays:
    """The arrays of a batch, checked: size, event times, no infinities."""
    rows, width = head.rows, len(head.channels)
    if rows * width > 200_000:  # the JSON contract's cell limit, checked before reading any array
        raise ContractError.single("channels", f"{rows} rows x {width} channels is too many; split the batch")
    ids_size = rows * 16 + (-rows * 16 % 8) if head.reading_ids else 0
    _check_body_size(body, rows * 8 + rows * width * 8 + ids_size)
    ts = np.frombuffer(body, "<i8", rows).astype(np.int64, copy=False)
    values = np.frombuffer(body, "<f8", rows * width, rows * 8).reshape(rows, width)
    values = values.astype(np.float64, copy=False)
    if ts.view(np.uint64).max() > MAX_EPOCH_MS:  # a negative time is a huge unsigned one
        bad_ts = np.flatnonzero((ts < 0) | (ts > MAX_EPOCH_MS))
        raise ContractError.single(f"ts[{int(bad_ts[0])}]", f"must be epoch ms in [0, {MAX_EPOCH_MS}]")
    if not _all_finite(values):
        infinite = np.argwhere(np.isinf(values))
        if infinite.size:
            row, column = (int(i) for i in infinite[0])
            raise ContractError.single(f"channels.{head.channels[column]}[{row}]", _FINITE)
    ts.flags.writeable = values.flags.writeable = False
    return BatchArrays(head.asset_id, ts, tuple(head.channels), values, head.revision, head.backfill)


def _batch_model(head: _BatchHeader, arrays: BatchArrays, body: memoryview) -> ReadingBatchV1:
    rows, width = head.rows, len(head.channels)
    ids = None
    if head.reading_ids:
        raw_ids = bytes(body[rows * 8 * (1 + width):rows * 8 * (1 + width) + rows * 16])
        ids = [UUID(bytes=raw_ids[i:i + 16]) for i in range(0, len(raw_ids), 16)]
    values = arrays.values
    nulls = np.isnan(values)
    columns = values.T.tolist()
    if nulls.any():
        columns = [[None if null else v for v, null in zip(column, flags, strict=True)]
                   for column, flags in zip(columns, nulls.T.tolist(), strict=True)]
    batch = ReadingBatchV1.model_construct(
        schema_id=BATCH_SCHEMA, asset_id=head.asset_id, ts=arrays.ts_ms.tolist(),
        channels=dict(zip(head.channels, columns, strict=True)), reading_ids=ids, units=head.units,
        quality=head.quality, revision=head.revision, backfill=head.backfill)
    # The arrays the stream worker reads, without going through lists: model_construct left the
    # cached property empty, and validation below reads this same instance.
    batch.__dict__["arrays"] = arrays
    try:
        batch._check_shape()
    except (ValueError, PydanticCustomError) as exc:
        raise _as_contract_error(exc) from None
    return batch


def _frame_samples(head: _FrameHeader, body: memoryview) -> np.ndarray:
    _check_body_size(body, head.samples * 8)
    samples = np.frombuffer(body, "<f8", head.samples).astype(np.float64, copy=False)
    if not _all_finite(samples):
        infinite = np.flatnonzero(~np.isfinite(samples))
        raise ContractError.single(f"samples[{int(infinite[0])}]", _FINITE)
    samples.flags.writeable = False
    return samples


def _frame_model(head: _FrameHeader, samples: np.ndarray) -> FrameV1:
    derived = head.frame_id or frame_id(head.asset_id, head.channel, head.ts_start, head.sample_rate_hz,
                                         hashlib.sha256(samples.tobytes()).hexdigest())
    frame = FrameV1.model_construct(
        schema_id=FRAME_SCHEMA, asset_id=head.asset_id, channel=head.channel, ts_start=head.ts_start,
        sample_rate_hz=head.sample_rate_hz, samples=samples.tolist(), unit=head.unit, frame_id=derived)
    frame.__dict__["array"] = samples  # FrameV1's cached array, without a round trip through the list
    return frame


def _all_finite(values: np.ndarray) -> bool:
    return bool(np.isfinite(values).all())


def _check_body_size(body: memoryview, expected: int) -> None:
    if len(body) != expected:
        raise _whole(f"binary body is {len(body)} bytes; the header says {expected}")


def _whole(reason: str) -> ContractError:
    return ContractError.single(MESSAGE_FIELD, reason)


def _as_contract_error(exc: ValueError | PydanticCustomError) -> ContractError:
    if isinstance(exc, ContractError):
        return exc
    if isinstance(exc, ValidationError):
        return ContractError.from_validation_error(exc)
    if isinstance(exc, PydanticCustomError) and exc.context:
        return ContractError.single(str(exc.context["field"]), str(exc.context["reason"]))
    return ContractError.single(MESSAGE_FIELD, str(exc))
