"""Per-asset event-time watermarks: which readings arrive later than the allowed lateness."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


class LatenessTracker:
    """A reading is late when its event time is older than the newest one seen for its asset
    minus `allowed_lateness_ms`. Late readings are archived but flagged, and windows that have
    already closed do not take them. Rows of a batch are judged in order, as if sent one by one.
    """

    def __init__(self, allowed_lateness_ms: int) -> None:
        self.allowed_lateness_ms = allowed_lateness_ms
        self.newest: dict[str, int] = {}

    def knows(self, asset_id: str) -> bool:
        return asset_id in self.newest

    def seed(self, newest: Mapping[str, int]) -> None:
        for asset, ts_ms in newest.items():
            self.newest[asset] = max(ts_ms, self.newest.get(asset, ts_ms))

    def late_mask(self, asset_id: str, ts_ms: np.ndarray) -> np.ndarray:
        """True where the row is late; advances the asset's watermark past the batch."""
        if ts_ms.size == 0:
            return np.zeros(0, dtype=bool)
        before = self.newest.get(asset_id, int(ts_ms[0]))
        running = np.maximum.accumulate(np.concatenate(([before], ts_ms)))[:-1]
        self.newest[asset_id] = int(max(before, ts_ms.max()))
        return ts_ms < running - self.allowed_lateness_ms
