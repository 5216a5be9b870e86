"""Frame scoring: spectral features of each waveform, judged per asset and channel by the online detector."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from pdm.detection import Hysteresis, HysteresisState
from pdm.detection.maintenance import MaintenanceDetector, MaintenanceParams, MaintenanceState
from pdm.features import spectral_features
from pdm.features.state import NO_READING
from pdm.scoring.model import DEFAULT_DETECTOR, DEFAULT_HYSTERESIS
from pdm.scoring.pipeline import accept_mask, confirm

FRAME_BANDS_HZ = ((0.0, 50.0), (50.0, 200.0), (200.0, 500.0), (500.0, 1000.0), (1000.0, 2560.0))
FRAME_KIND = "anomalous_frame"


@dataclass(frozen=True)
class FrameModel:
    """Band energies (log10, so a gain is a shift) and the dominant frequency of every frame.

    One feature row per frame; the detector's windows are frames, so its warm-up (90 rows)
    and hour-long history (360 rows) count frames, whatever their cadence. The detector judges
    the band energies only: the dominant frequency sits on one FFT bin for hours, and the
    contextual stage scored such a constant column as novel on every frame after warm-up
    (measured on the simulator). It is published with the features.
    """

    version: str = "frame-drift-v1"
    name: str = "pdm-frames"
    revision: int = 2
    """2: band energies summed over their bins' slice (1 summed the whole spectrum, zeros outside)."""
    bands_hz: tuple[tuple[float, float], ...] = FRAME_BANDS_HZ
    detector_params: MaintenanceParams = DEFAULT_DETECTOR
    threshold: float = 0.5
    hysteresis: Hysteresis = DEFAULT_HYSTERESIS

    @property
    def tag(self) -> str:
        return f"{self.name}/v{self.revision}"

    @property
    def feature_names(self) -> tuple[str, ...]:
        return (*(f"log_band_{lo:g}_{hi:g}hz" for lo, hi in self.bands_hz), "dominant_hz")

    @property
    def scored(self) -> int:
        """How many leading feature columns the detector judges."""
        return len(self.bands_hz)

    @property
    def detector(self) -> MaintenanceDetector:
        return MaintenanceDetector(self.detector_params)

    def features(self, samples: np.ndarray, sample_rate_hz: float) -> np.ndarray:
        """(frames, bands + 1); +1e-12 keeps a silent band finite."""
        energies, dominant = spectral_features(samples, sample_rate_hz, self.bands_hz)
        return np.column_stack([np.log10(energies + 1e-12), dominant])


DEFAULT_FRAME_MODEL = FrameModel()


@dataclass(frozen=True)
class FrameChannelState:
    """One channel's detector, hysteresis and newest accepted frame start (redelivery = no-op)."""

    detector: MaintenanceState
    hysteresis: HysteresisState = field(default_factory=HysteresisState)
    last_ts_ms: int = int(NO_READING)

    @classmethod
    def empty(cls, model: FrameModel) -> FrameChannelState:
        return cls(model.detector.start(model.scored))

    def to_dict(self) -> dict[str, Any]:
        return {"detector": self.detector.to_dict(), "hysteresis": self.hysteresis.as_dict(),
                "last_ts_ms": self.last_ts_ms}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FrameChannelState:
        detector, hysteresis = data["detector"], data["hysteresis"]
        return cls(MaintenanceState.from_dict(detector), HysteresisState.from_dict(hysteresis),
                   int(data["last_ts_ms"]))


@dataclass(frozen=True)
class AssetFrameState:
    """Every channel of one asset in one value, so it is keyed (and partitioned) by asset id."""

    tag: str
    channels: dict[str, FrameChannelState] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        data = {"tag": self.tag, "channels": {c: s.to_dict() for c, s in self.channels.items()}}
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> AssetFrameState:
        data = json.loads(raw)
        return cls(str(data["tag"]), {c: FrameChannelState.from_dict(s) for c, s in data["channels"].items()})


@dataclass(frozen=True)
class FrameResult:
    """One channel's frames of a micro-batch: rows, scores and hysteresis decisions align."""

    asset_id: str
    channel: str
    model: FrameModel
    ts_ms: np.ndarray
    features: np.ndarray
    raw: np.ndarray
    anomalous: np.ndarray
    raised: np.ndarray


def score_frames(
    model: FrameModel, state: FrameChannelState, asset_id: str, channel: str,
    ts_ms: np.ndarray, features: np.ndarray,
) -> tuple[FrameResult, FrameChannelState]:
    """Frames of one asset and channel, in arrival order; only frames newer than any before count."""
    return score_frames_many(model, [(state, asset_id, channel, ts_ms, features)])[0]


FrameGroup = tuple[FrameChannelState, str, str, np.ndarray, np.ndarray]
"""(channel state, asset id, channel, frame starts in ms, feature rows) of one asset and channel."""


def score_frames_many(
    model: FrameModel, groups: list[FrameGroup]
) -> list[tuple[FrameResult, FrameChannelState]]:
    """`score_frames` of many (asset, channel) groups, their detectors updated in one call."""
    accepted = []
    for state, _, _, ts_ms, features in groups:
        keep = accept_mask(state.last_ts_ms, ts_ms)
        accepted.append((ts_ms[keep], features[keep]))
    updated = model.detector.update_many([g[0].detector for g in groups],
                                         [features[:, : model.scored] for _, features in accepted])
    out = []
    for (state, asset_id, channel, _, _), (ts_ms, features), (scores, detector) in zip(
            groups, accepted, updated, strict=True):
        anomalous = scores.raw >= model.threshold
        raised, hysteresis = confirm(model.hysteresis, state.hysteresis, anomalous, scores.severe)
        last = max(int(ts_ms[-1]), state.last_ts_ms) if len(ts_ms) else state.last_ts_ms
        result = FrameResult(asset_id, channel, model, ts_ms, features, scores.raw, anomalous, raised)
        out.append((result, replace(state, detector=detector, hysteresis=hysteresis, last_ts_ms=last)))
    return out
