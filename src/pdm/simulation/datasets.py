"""Writing a simulation to disk as a NAB-style labelled dataset (one CSV per asset)."""

from __future__ import annotations

import json
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np

from pdm.contracts import from_epoch_ms
from pdm.simulation.assets import CHANNELS
from pdm.simulation.labels import NAB_TIME_FORMAT
from pdm.simulation.simulator import BLOCK, Simulator

LABELS_FILE = "combined_windows.json"
DETAILED_LABELS_FILE = "labels.json"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class DatasetFiles:
    csv_files: dict[str, Path]
    labels: Path
    detailed_labels: Path
    manifest: Path


def write_csv_dataset(sim: Simulator, directory: Path | str, duration: timedelta) -> DatasetFiles:
    """`<asset_id>.csv` with `timestamp` (UTC) and one column per channel of the asset's
    kind (empty cell: dropout), plus NAB windows, detailed labels and a manifest.
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    paths = {spec.asset_id: root / f"{spec.asset_id}.csv" for spec in sim.assets}
    columns = [_asset_columns(sim, a) for a in range(len(sim.assets))]
    with ExitStack() as stack:
        handles = [stack.enter_context(p.open("w", encoding="utf-8")) for p in paths.values()]
        for handle, cols in zip(handles, columns, strict=True):
            handle.write(",".join(["timestamp", *(CHANNELS[c] for c in cols)]) + "\n")
        total = sim.tick_count(duration)
        for first in range(0, total, BLOCK):
            piece = sim.slice(first, min(BLOCK, total - first))
            stamps = [from_epoch_ms(ms).strftime(NAB_TIME_FORMAT) for ms in piece.ts_ms.tolist()]
            for a, handle in enumerate(handles):
                handle.writelines(_rows(stamps, piece.values[a][:, columns[a]]))
    return DatasetFiles(paths, *_write_labels(sim, root, duration))


def _asset_columns(sim: Simulator, asset: int) -> list[int]:
    return [CHANNELS.index(name) for name in sim.channels_of(sim.assets[asset].asset_id)]


def _rows(stamps: list[str], values: np.ndarray) -> list[str]:
    return [
        ",".join([stamp, *("" if v != v else repr(v) for v in row)]) + "\n"
        for stamp, row in zip(stamps, values.tolist(), strict=True)
    ]


def _write_labels(sim: Simulator, root: Path, duration: timedelta) -> tuple[Path, Path, Path]:
    paths = (root / LABELS_FILE, root / DETAILED_LABELS_FILE, root / MANIFEST_FILE)
    detailed = [w.to_json() for w in sim.label_windows(duration)]
    manifest = {
        "seed": sim.seed,
        "rate_hz": sim.rate_hz,
        "dropout_rate": sim.dropout_rate,
        "start": from_epoch_ms(sim.start_ms).isoformat(),
        "duration_s": duration.total_seconds(),
        "assets": [{"asset_id": s.asset_id, "kind": s.kind.value} for s in sim.assets],
        "faults": [str(f.spec) for f in sim.faults],
        "time_zone": "UTC",
    }
    for path, content in zip(paths, (sim.labels(duration), detailed, manifest), strict=True):
        path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    return paths
