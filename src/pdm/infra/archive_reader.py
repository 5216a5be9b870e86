"""Reading one asset's archived history back in event-time order, for replay and retraining."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pdm.infra.database import connect

HISTORY = (
    "SELECT (extract(epoch FROM ts) * 1000)::bigint, channels, vals FROM readings_archive "
    "WHERE asset_id = %s ORDER BY ts, revision, reading_id"
)


def read_history(conninfo: str, schema: str, asset_id: str, channels: Sequence[str]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(ts_ms, values) with columns in `channels` order, NaN where a reading had no value.

    Sorted by event time: the archive keeps no arrival order, so the batch path equals the
    stream for histories that arrived in order (the stream drops readings that did not).
    """
    index = {name: i for i, name in enumerate(channels)}
    with connect(conninfo, schema) as conn:
        rows = conn.execute(HISTORY, (asset_id,)).fetchall()
    ts = np.array([r[0] for r in rows], dtype=np.int64)
    values = np.full((len(rows), len(channels)), np.nan)
    for i, (_, names, vals) in enumerate(rows):
        for name, value in zip(names, vals, strict=True):
            if name in index and value is not None:
                values[i, index[name]] = value
    return ts, values


def archived_assets(conninfo: str, schema: str) -> list[str]:
    with connect(conninfo, schema) as conn:
        return [r[0] for r in conn.execute("SELECT DISTINCT asset_id FROM readings_archive ORDER BY 1")]
