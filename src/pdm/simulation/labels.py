"""Ground-truth label windows, in NAB's `combined_windows.json` shape and a richer one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from pdm.contracts import format_event_time, from_epoch_ms
from pdm.simulation.assets import AssetSpec
from pdm.simulation.effects import PlacedFault

NAB_TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


@dataclass(frozen=True, slots=True)
class LabelWindow:
    """The first and last reading a fault affected (both inclusive)."""

    asset_id: str
    kind: str
    channel: str
    start: datetime
    end: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "asset_id": self.asset_id,
            "kind": self.kind,
            "channel": self.channel,
            "start": format_event_time(self.start),
            "end": format_event_time(self.end),
        }


def windows_of(
    faults: Sequence[PlacedFault],
    assets: Sequence[AssetSpec],
    tick_ms: Callable[[np.ndarray], np.ndarray],
    last_tick: int | None,
) -> list[LabelWindow]:
    windows = []
    for fault in sorted(faults, key=lambda f: (f.asset, f.first)):
        if last_tick is not None and fault.first > last_tick:
            continue
        last = fault.last if last_tick is None else min(fault.last, last_tick)
        start_ms, end_ms = tick_ms(np.array([fault.first, last])).tolist()
        windows.append(
            LabelWindow(
                assets[fault.asset].asset_id,
                fault.spec.kind.value,
                fault.spec.channel,
                from_epoch_ms(start_ms),
                from_epoch_ms(end_ms),
            )
        )
    return windows


def nab_windows(assets: Sequence[AssetSpec], windows: Sequence[LabelWindow]) -> dict[str, list[list[str]]]:
    """Every asset's file is listed (NAB expects a key per data file); overlapping windows
    of one asset are merged, because NAB scores each window as one anomaly.
    """
    merged: dict[str, list[list[datetime]]] = {f"{a.asset_id}.csv": [] for a in assets}
    for window in sorted(windows, key=lambda w: (w.asset_id, w.start)):
        spans = merged[f"{window.asset_id}.csv"]
        if spans and window.start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], window.end)
        else:
            spans.append([window.start, window.end])
    return {
        name: [[s.strftime(NAB_TIME_FORMAT), e.strftime(NAB_TIME_FORMAT)] for s, e in spans]
        for name, spans in merged.items()
    }
