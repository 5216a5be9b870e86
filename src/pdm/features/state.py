"""Per-asset window state: the retained tail of readings, serialisable without loss."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

NO_READING = np.iinfo(np.int64).min


class IncompatibleStateError(ValueError):
    """A stored state belongs to another feature set: rebuild it from the reading archive."""


def encode_array(array: np.ndarray) -> dict[str, Any]:
    """Raw little-endian bytes in base64: float64 survives exactly, unlike decimal text."""
    little = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    return {
        "dtype": little.dtype.str,
        "shape": list(little.shape),
        "data": base64.b64encode(little.tobytes()).decode("ascii"),
    }


def decode_array(encoded: dict[str, Any]) -> np.ndarray:
    raw = base64.b64decode(encoded["data"])
    array = np.frombuffer(raw, dtype=np.dtype(encoded["dtype"])).reshape(encoded["shape"])
    return array.astype(array.dtype.newbyteorder("="), copy=True)


@dataclass(frozen=True)
class AssetWindowState:
    """Everything a feature set needs to continue one asset's stream after a restart.

    Immutable: extraction returns a new state, so the worker can persist it only after the
    batch's outputs were sent (at-least-once delivery then recomputes the same rows).
    """

    feature_set_tag: str
    ts: np.ndarray
    values: np.ndarray
    seen: int = 0
    last_ts: int = int(NO_READING)

    @classmethod
    def empty(cls, feature_set_tag: str, channels: int) -> AssetWindowState:
        return cls(feature_set_tag, np.empty(0, np.int64), np.empty((0, channels)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature_set": self.feature_set_tag,
            "ts": encode_array(self.ts),
            "values": encode_array(self.values),
            "seen": self.seen,
            "last_ts": self.last_ts,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], expected_tag: str | None = None) -> AssetWindowState:
        if expected_tag is not None and data["feature_set"] != expected_tag:
            raise IncompatibleStateError(f"state of {data['feature_set']}, wanted {expected_tag}")
        return cls(
            data["feature_set"],
            decode_array(data["ts"]),
            decode_array(data["values"]),
            int(data["seen"]),
            int(data["last_ts"]),
        )

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes, expected_tag: str | None = None) -> AssetWindowState:
        return cls.from_dict(json.loads(raw), expected_tag)
