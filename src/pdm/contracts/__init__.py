"""Versioned wire contracts shared by HTTP, CLI and the stream worker."""

from pdm.contracts import topics
from pdm.contracts.batches import BATCH_SCHEMA, MAX_BATCH_ROWS, BatchArrays, ReadingBatchV1
from pdm.contracts.decoding import (
    MAX_MESSAGE_BYTES,
    ReadingMessage,
    decode_arrays,
    decode_message,
    decode_object,
    validate_readings,
)
from pdm.contracts.downstream import (
    AnomalyV1,
    DeadLetterV1,
    DeploymentV1,
    IssueV1,
    ScoreV1,
    SourceOffsetV1,
)
from pdm.contracts.errors import ContractError, Issue, ItemError
from pdm.contracts.event_time import (
    DEFAULT_POLICY,
    EventTimePolicy,
    check_event_time,
    event_time_mask,
)
from pdm.contracts.fields import format_event_time, from_epoch_ms, parse_event_time, to_epoch_ms
from pdm.contracts.frames import FRAME_SCHEMA, FrameArrays, FrameV1
from pdm.contracts.grouping import group_into_batches
from pdm.contracts.identity import anomaly_id, reading_id
from pdm.contracts.readings import READING_SCHEMA, ReadingV1

__all__ = [
    "BATCH_SCHEMA",
    "DEFAULT_POLICY",
    "FRAME_SCHEMA",
    "MAX_BATCH_ROWS",
    "MAX_MESSAGE_BYTES",
    "READING_SCHEMA",
    "AnomalyV1",
    "BatchArrays",
    "ContractError",
    "DeadLetterV1",
    "DeploymentV1",
    "EventTimePolicy",
    "FrameArrays",
    "FrameV1",
    "Issue",
    "IssueV1",
    "ItemError",
    "ReadingBatchV1",
    "ReadingMessage",
    "ReadingV1",
    "ScoreV1",
    "SourceOffsetV1",
    "anomaly_id",
    "check_event_time",
    "decode_arrays",
    "decode_message",
    "decode_object",
    "event_time_mask",
    "format_event_time",
    "from_epoch_ms",
    "group_into_batches",
    "parse_event_time",
    "reading_id",
    "to_epoch_ms",
    "topics",
    "validate_readings",
]
