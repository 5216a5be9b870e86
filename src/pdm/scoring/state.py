"""Per-asset scoring state: feature windows, online detector state and hysteresis, serialisable exactly."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pdm.detection import HysteresisState
from pdm.detection.maintenance import MaintenanceState
from pdm.features import AssetWindowState, IncompatibleStateError
from pdm.features.state import NO_READING
from pdm.scoring.model import ScoringModel


@dataclass(frozen=True)
class AssetScoringState:
    """Everything needed to continue one asset's scores after a restart, bit for bit.

    `last_ts_ms` is the newest accepted event time: a redelivered reading is never newer,
    so replaying a batch whose state was already saved changes nothing.
    """

    windows: AssetWindowState
    detector: MaintenanceState
    hysteresis: HysteresisState
    model_version: str
    last_ts_ms: int = int(NO_READING)

    @classmethod
    def empty(cls, model: ScoringModel) -> AssetScoringState:
        channels = len(model.feature_set.channels)
        width = channels * len(model.feature_set.statistics)
        return cls(
            AssetWindowState.empty(model.feature_set.tag, channels),
            model.detector.start(width),
            HysteresisState(),
            model.version,
        )

    def to_bytes(self) -> bytes:
        """Sorted-key compact JSON, composed key by key so an unchanged detector is not re-encoded."""
        parts: dict[str, str] = {
            "detector": _detector_json(self.detector),
            "hysteresis": _dumps(self.hysteresis.as_dict()),
            "last_ts_ms": _dumps(self.last_ts_ms),
            "model_version": _dumps(self.model_version),
            "windows": _dumps(self.windows.to_dict()),
        }
        return ("{" + ",".join(f"{_dumps(k)}:{v}" for k, v in sorted(parts.items())) + "}").encode()

    @classmethod
    def from_bytes(cls, raw: bytes, expected_tag: str | None = None) -> AssetScoringState:
        data = json.loads(raw)
        if "detector" not in data:
            raise IncompatibleStateError("state of an earlier online detector (novelty-v1)")
        return cls(
            AssetWindowState.from_dict(data["windows"], expected_tag),
            MaintenanceState.from_dict(data["detector"]),
            HysteresisState.from_dict(data["hysteresis"]),
            str(data["model_version"]),
            int(data["last_ts_ms"]),
        )


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


_last_detector: list[tuple[MaintenanceState, str]] = []


def _detector_json(detector: MaintenanceState) -> str:
    """Most batches close no window, so the detector state is the very object saved last time
    (~110 kB of JSON); a small identity cache (holding the object, so its id is not reused) skips it."""
    for known, text in _last_detector:
        if known is detector:
            return text
    text = _dumps(detector.to_dict())
    _last_detector.insert(0, (detector, text))
    del _last_detector[64:]
    return text
