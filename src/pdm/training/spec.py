"""What a training run is given, as data: enough to run it again and get the same artifact."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

ALGORITHMS = ("pca_t2_q", "isolation_forest")
ALIASES = {"pca": "pca_t2_q", "iforest": "isolation_forest", "isolation-forest": "isolation_forest"}


@dataclass(frozen=True)
class Period:
    """[start, end] of one asset left out of training: a confirmed fault or a maintenance window."""

    asset_id: str
    start: datetime
    end: datetime
    reason: str

    def as_data(self) -> list[str]:
        return [self.asset_id, self.start.isoformat(), self.end.isoformat(), self.reason]

    @classmethod
    def from_data(cls, data: list[str]) -> Period:
        return cls(data[0], datetime.fromisoformat(data[1]), datetime.fromisoformat(data[2]), data[3])


@dataclass(frozen=True)
class TrainingSpec:
    """The inputs; the exclusions are stored resolved (not re-read), so labels added later
    cannot change what a recorded run trained on."""

    algorithm: str
    seed: int
    data_from: datetime
    data_to: datetime
    holdout_from: datetime
    assets: tuple[str, ...]
    watermark: datetime
    exclusions: tuple[Period, ...] = ()
    include_late: bool = False
    detector: Mapping[str, Any] | None = None

    def parameters(self) -> dict[str, Any]:
        """The `parameters` of ModelVersion.Trained: everything but what Lineage already holds."""
        return {"detector": dict(self.detector or {}), "holdout_from": self.holdout_from.isoformat(),
                "exclusions": [p.as_data() for p in self.exclusions], "include_late": self.include_late}

    @classmethod
    def from_record(cls, algorithm: str, parameters: Mapping[str, Any], lineage: Mapping[str, Any]
                    ) -> TrainingSpec:
        return cls(
            algorithm, int(lineage["seed"]), _time(lineage["data_from"]), _time(lineage["data_to"]),
            _time(parameters["holdout_from"]), tuple(lineage["assets"]), _time(lineage["archive_watermark"]),
            tuple(Period.from_data(p) for p in parameters.get("exclusions", [])),
            bool(parameters.get("include_late", False)), dict(parameters.get("detector", {})),
        )


def canonical_algorithm(name: str) -> str:
    algorithm = ALIASES.get(name, name)
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}: use pca or isolation_forest")
    return algorithm


def excluded_rows(asset_ids: np.ndarray, ts_ms: np.ndarray, window_ms: int, periods: tuple[Period, ...]
                  ) -> np.ndarray:
    """Rows whose window [end - width, end) overlaps a period of their asset."""
    mask = np.zeros(len(ts_ms), dtype=bool)
    for p in periods:
        start, end = _ms(p.start), _ms(p.end)
        mask |= (asset_ids == p.asset_id) & (ts_ms > start) & (ts_ms - window_ms <= end)
    return mask


def _ms(t: datetime) -> int:
    return round(t.timestamp() * 1000)


def _time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
