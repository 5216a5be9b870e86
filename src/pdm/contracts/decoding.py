"""The one door from raw bytes (Kafka, HTTP, files) into validated reading contracts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Final

import numpy as np
import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError

from pdm.contracts.batches import BATCH_SCHEMA, BatchArrays, ReadingBatchV1
from pdm.contracts.binary import decode_binary, decode_binary_arrays, is_binary
from pdm.contracts.errors import MESSAGE_FIELD, ContractError, ItemError
from pdm.contracts.event_time import DEFAULT_POLICY, EventTimePolicy, check_event_time, event_time_mask
from pdm.contracts.frames import FRAME_SCHEMA, FrameArrays, FrameV1
from pdm.contracts.grouping import group_into_batches
from pdm.contracts.readings import READING_SCHEMA, ReadingV1, UnidentifiedReading

MAX_MESSAGE_BYTES: Final = 4 * 1024 * 1024
ReadingMessage = ReadingV1 | ReadingBatchV1 | FrameV1

_MODELS: Final[dict[str, type[BaseModel]]] = {
    READING_SCHEMA: ReadingV1,
    BATCH_SCHEMA: ReadingBatchV1,
    FRAME_SCHEMA: FrameV1,
}
_HINTS: Final = {"channels": BATCH_SCHEMA, "samples": FRAME_SCHEMA}


def decode_message(raw: bytes, *, derive_ids: bool = True) -> ReadingMessage:
    """Parse and validate one message of `pdm.readings.v1`.

    Raises only ContractError, whatever the bytes: the caller dead-letters it and moves
    on, so a poison message can never stall a partition. With `derive_ids=False` a single
    reading sent without an id keeps `reading_id` None (every check still runs): for a
    consumer that never reads ids, such as the scorer, deriving one is half the decode.
    """
    _check_size(raw)
    if is_binary(raw):
        return decode_binary(raw)
    return _decode_json(raw, derive_ids)


def decode_arrays(raw: bytes) -> ReadingMessage | BatchArrays | FrameArrays:
    """`decode_message` for a consumer that reads only numbers (the scorer): it accepts and
    rejects exactly the same messages, but a binary batch or frame comes back as its arrays,
    without the contract model's Python lists (most of the model's decode), and single readings
    without derived ids."""
    _check_size(raw)
    if is_binary(raw):
        return decode_binary_arrays(raw)
    return _decode_json(raw, derive_ids=False)


def _check_size(raw: bytes) -> None:
    if len(raw) > MAX_MESSAGE_BYTES:
        raise ContractError.single(
            MESSAGE_FIELD, f"message is {len(raw)} bytes; the limit is {MAX_MESSAGE_BYTES}"
        )


def _decode_json(raw: bytes, derive_ids: bool) -> ReadingMessage:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        data = _lenient_loads(raw, exc)
    return decode_object(data, derive_ids=derive_ids)


def _lenient_loads(raw: bytes, error: orjson.JSONDecodeError) -> Any:
    """Second chance for NaN / Infinity literals, so the reason can name the channel.

    Only on the error path; anything the strict parser rejects for another reason (bad
    UTF-8, lone surrogates, nesting too deep) is still rejected with its message.
    """
    try:
        data = json.loads(raw.decode("utf-8"))
        orjson.dumps(data)
    except (ValueError, RecursionError, orjson.JSONEncodeError):
        raise ContractError.single(MESSAGE_FIELD, f"not valid UTF-8 JSON: {error}") from None
    return data


def decode_object(data: Any, *, derive_ids: bool = True) -> ReadingMessage:
    """Validate an already-parsed JSON value; a message without `schema` is a reading."""
    if not isinstance(data, dict):
        raise ContractError.single(MESSAGE_FIELD, "message must be a JSON object")
    schema = _schema_of(data)
    model = _MODELS.get(schema) if derive_ids or schema != READING_SCHEMA else UnidentifiedReading
    if model is None:
        raise ContractError.single("schema", _unknown_schema(data["schema"]))
    try:
        return model.model_validate(data)  # type: ignore[return-value]
    except ValidationError as exc:
        raise ContractError.from_validation_error(exc) from None


def _schema_of(data: dict[str, Any]) -> str:
    schema = data.get("schema", READING_SCHEMA)
    if "schema" not in data:
        for key, hinted in _HINTS.items():
            if key in data:
                raise ContractError.single(
                    "schema", f'missing; a message with "{key}" needs "schema": "{hinted}"'
                )
    return schema if isinstance(schema, str) else ""


def _unknown_schema(schema: Any) -> str:
    known = ", ".join(_MODELS)
    shown = repr(schema[:40]) if isinstance(schema, str) else type(schema).__name__
    return f"unknown schema {shown}; this decoder accepts {known}"


def validate_readings(
    items: list[object],
    *,
    now: datetime | None = None,
    policy: EventTimePolicy = DEFAULT_POLICY,
) -> tuple[list[ReadingV1], list[ItemError]]:
    """Validate every item and collect every error, so a rejected HTTP batch can say
    all that is wrong at once. With `now`, event times outside the window are errors too.
    """
    readings: list[ReadingV1] = []
    errors: list[ItemError] = []
    for index, item in enumerate(items):
        try:
            reading = _validate_reading(item)
        except ContractError as exc:
            errors.extend(ItemError(index, i.field, i.reason) for i in exc.issues)
            continue
        reason = None if now is None else check_event_time(reading.ts_ms, now, policy)
        if reason is not None:
            errors.append(ItemError(index, "ts", reason))
        readings.append(reading)
    return readings, errors


_UNIDENTIFIED: Final = TypeAdapter(list[UnidentifiedReading])


def batch_valid_readings(
    items: list[object],
    *,
    now: datetime,
    max_batch: int,
    policy: EventTimePolicy = DEFAULT_POLICY,
) -> list[ReadingBatchV1] | None:
    """The fast path of an HTTP batch: the same messages as
    `group_into_batches(validate_readings(items, now=now)[0], max_batch)` when every item is
    valid, else None, and `validate_readings` then says what is wrong item by item.

    One pydantic call validates the whole list, the event-time window is checked with numpy,
    and no id is derived per reading (the batch's consumer derives them).
    """
    if not items:
        return None
    try:
        readings = _UNIDENTIFIED.validate_python(items)
    except ValidationError:
        return None
    ts_ms = np.fromiter((r.ts_ms for r in readings), np.int64, len(readings))
    if not event_time_mask(ts_ms, now, policy).all():
        return None
    return group_into_batches(readings, max_batch)


def _validate_reading(item: object) -> ReadingV1:
    if not isinstance(item, dict):
        raise ContractError.single(MESSAGE_FIELD, "each reading must be a JSON object")
    message = decode_object(item)
    if not isinstance(message, ReadingV1):
        raise ContractError.single("schema", f'must be "{READING_SCHEMA}" here')
    return message
