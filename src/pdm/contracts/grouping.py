"""Packing readings into per-asset batch messages, which is how pdm's own producers send."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pdm.contracts.batches import BATCH_SCHEMA, MAX_BATCH_CELLS, MAX_BATCH_ROWS, ReadingBatchV1
from pdm.contracts.fields import MAX_CHANNELS
from pdm.contracts.identity import reading_id
from pdm.contracts.readings import ReadingV1


@dataclass
class _Group:
    """Readings bound for one batch, with each channel's unit (None: sent without one)."""

    readings: list[ReadingV1] = field(default_factory=list)
    units: dict[str, str | None] = field(default_factory=dict)
    has_units: bool = False

    def accepts(self, reading: ReadingV1, max_batch: int) -> bool:
        if not self.readings:
            return True
        if len(self.readings) >= max_batch or reading.revision != self.readings[0].revision:
            return False
        given = reading.units or {}
        # Without units on either side every channel's unit is None: nothing can conflict.
        if (given or self.has_units) and any(
            self.units.get(ch, given.get(ch)) != given.get(ch) for ch in reading.values
        ):
            return False
        known = self.units.keys()
        channels = len(known) if known >= reading.values.keys() else len(known | reading.values.keys())
        rows = len(self.readings) + 1
        return channels <= MAX_CHANNELS and channels * rows <= MAX_BATCH_CELLS

    def add(self, reading: ReadingV1) -> None:
        given = reading.units or {}
        for channel in reading.values:
            self.units[channel] = given.get(channel)
        self.has_units = self.has_units or bool(given)
        self.readings.append(reading)


def group_into_batches(
    readings: Iterable[ReadingV1], max_batch: int = 500, *, backfill: bool = False
) -> list[ReadingBatchV1]:
    """Per asset, in input order, at most `max_batch` rows per message.

    A new batch starts when the revision or a channel's unit changes, or when the batch
    would exceed the contract's limits, so every reading comes back out exactly as it
    went in (values, ids, units, quality, timestamps).
    """
    if not 1 <= max_batch <= MAX_BATCH_ROWS:
        raise ValueError(f"max_batch must be 1..{MAX_BATCH_ROWS}, got {max_batch}")
    open_groups: dict[str, _Group] = {}
    closed: list[_Group] = []
    for reading in readings:
        group = open_groups.setdefault(reading.asset_id, _Group())
        if not group.accepts(reading, max_batch):
            closed.append(group)
            group = open_groups[reading.asset_id] = _Group()
        group.add(reading)
    closed.extend(open_groups.values())
    return [_to_batch(group, backfill) for group in closed]


def _to_batch(group: _Group, backfill: bool) -> ReadingBatchV1:
    rows = group.readings
    quality_names = list(dict.fromkeys(name for r in rows for name in r.quality or ()))
    payload: dict[str, Any] = {
        "schema": BATCH_SCHEMA,
        "asset_id": rows[0].asset_id,
        "ts": [r.ts_ms for r in rows],
        "channels": {name: [r.values.get(name) for r in rows] for name in group.units},
        "revision": rows[0].revision,
        "backfill": backfill,
    }
    if units := {name: unit for name, unit in group.units.items() if unit is not None}:
        payload["units"] = units
    if quality_names:
        payload["quality"] = {n: [(r.quality or {}).get(n) for r in rows] for n in quality_names}
    # A reading without an id (UnidentifiedReading) has the derived one by definition.
    if any(r.reading_id is not None and r.reading_id != _derived_id(r) for r in rows):
        payload["reading_ids"] = [r.reading_id or _derived_id(r) for r in rows]
    return ReadingBatchV1.model_validate(payload)


def _derived_id(reading: ReadingV1) -> Any:
    return reading_id(reading.asset_id, reading.ts_ms, reading.values.items(), reading.revision)
