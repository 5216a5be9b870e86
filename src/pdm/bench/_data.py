"""Synthetic readings for the ingest benchmark, pre-serialised so generating them is never timed."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson

from pdm.contracts import BATCH_SCHEMA, format_event_time, from_epoch_ms, reading_id

CHANNELS = ("vibration_rms", "temperature_c", "current_a", "pressure_bar")
ASSETS_PER_REQUEST = 10


def asset_name(index: int) -> str:
    return f"pump-{index:04d}"


def channel_values(asset: int, step: int) -> list[float]:
    """Plausible, varied, deterministic values with the few decimals sensors usually send."""
    phase = step / 600 + asset
    return [
        round(0.2 + 0.05 * math.sin(phase), 4),
        round(60.0 + 5 * math.sin(phase / 7) + (step % 13) / 10, 2),
        round(12.0 + math.cos(phase), 3),
        round(3.5 + 0.1 * math.sin(phase * 3), 4),
    ]


@dataclass(frozen=True)
class Series:
    """`steps` readings of each of `assets` assets, one per second, ending an hour ago."""

    assets: int
    steps: int
    start_ms: int

    @classmethod
    def ending_now(cls, readings: int, assets: int) -> Series:
        steps = max(1, readings // assets)
        end_ms = int(datetime.now(UTC).timestamp() * 1000) - 3_600_000
        return cls(assets, steps, end_ms - steps * 1000)

    @property
    def size(self) -> int:
        return self.assets * self.steps

    def ts_ms(self, step: int) -> int:
        return self.start_ms + step * 1000


def http_bodies(series: Series, per_request: int) -> list[bytes]:
    """JSON arrays of `per_request` readings, each of ASSETS_PER_REQUEST assets interleaved in
    time (as a gateway polling several machines sends them), `ts` as RFC 3339 text."""
    steps_per_request = per_request // ASSETS_PER_REQUEST
    bodies = []
    for group in range(series.assets // ASSETS_PER_REQUEST):
        assets = range(group * ASSETS_PER_REQUEST, (group + 1) * ASSETS_PER_REQUEST)
        for first in range(0, series.steps - steps_per_request + 1, steps_per_request):
            items = [_reading(a, s, series) for s in range(first, first + steps_per_request) for a in assets]
            bodies.append(orjson.dumps(items))
    return bodies


def _reading(asset: int, step: int, series: Series) -> dict[str, Any]:
    ts = format_event_time(from_epoch_ms(series.ts_ms(step)))
    return {"asset_id": asset_name(asset), "ts": ts, "values": dict(zip(CHANNELS, channel_values(asset, step),
                                                                         strict=True))}


def batch_messages(series: Series, rows: int) -> list[tuple[bytes, bytes, int]]:
    """(key, `reading_batch.v1` value, rows) per asset and `rows` consecutive steps: the messages
    ReadingPublisher sends for the same readings (no reading_ids: the consumer derives them)."""
    out = []
    for asset in range(series.assets):
        for first in range(0, series.steps, rows):
            steps = range(first, min(first + rows, series.steps))
            out.append((asset_name(asset).encode(), orjson.dumps(_batch(asset, steps, series)), len(steps)))
    return out


def _batch(asset: int, steps: range, series: Series) -> dict[str, Any]:
    values = [channel_values(asset, s) for s in steps]
    return {
        "schema": BATCH_SCHEMA,
        "asset_id": asset_name(asset),
        "ts": [series.ts_ms(s) for s in steps],
        "channels": {name: [row[c] for row in values] for c, name in enumerate(CHANNELS)},
        "revision": 0,
        "backfill": False,
    }


def archive_rows(series: Series) -> Iterator[tuple[Any, ...]]:
    """The rows the gate writes for these readings, in archive column order and types."""
    channels = list(CHANNELS)
    for asset in range(series.assets):
        name = asset_name(asset)
        for step in range(series.steps):
            ts_ms = series.ts_ms(step)
            vals = channel_values(asset, step)
            rid: UUID = reading_id(name, ts_ms, zip(CHANNELS, vals, strict=True), 0)
            yield (name, from_epoch_ms(ts_ms), rid, 0, channels, vals, 0, asset % 8, step)


def request_messages(series: Series, per_request: int) -> list[list[tuple[bytes, bytes, int]]]:
    """Per HTTP body of `http_bodies`, the batch messages the API publishes for it."""
    steps_per_request = per_request // ASSETS_PER_REQUEST
    out = []
    for group in range(series.assets // ASSETS_PER_REQUEST):
        assets = range(group * ASSETS_PER_REQUEST, (group + 1) * ASSETS_PER_REQUEST)
        for first in range(0, series.steps - steps_per_request + 1, steps_per_request):
            steps = range(first, first + steps_per_request)
            out.append([(asset_name(a).encode(), orjson.dumps(_batch(a, steps, series)), len(steps))
                        for a in assets])
    return out
