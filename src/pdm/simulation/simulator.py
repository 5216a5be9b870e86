"""A seeded, deterministic generator of multichannel pump and motor data with labelled faults."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from pdm.contracts import FrameV1, ReadingBatchV1, ReadingV1, to_epoch_ms
from pdm.contracts.batches import BATCH_SCHEMA
from pdm.simulation.assets import (
    CHANNELS,
    ROTATION_HZ,
    UNITS,
    AssetSpec,
    asset_rng,
    default_roster,
    roster_arrays,
)
from pdm.simulation.effects import PlacedFault, apply_faults, mechanical_state, waveform
from pdm.simulation.faults import FaultSpec, parse_faults
from pdm.simulation.labels import LabelWindow, nab_windows, windows_of
from pdm.simulation.signals import clean_values, dropout_mask

BLOCK = 1024
DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
_FRAME_STREAM = 3


@dataclass(frozen=True)
class SimSlice:
    """Consecutive ticks of every asset; NaN marks a dropout or a channel the kind lacks."""

    ts_ms: np.ndarray  # (ticks,) int64
    assets: tuple[AssetSpec, ...]
    values: np.ndarray  # (assets, ticks, len(CHANNELS))

    def batch(self, asset: int, *, backfill: bool = False) -> ReadingBatchV1:
        """The asset's rows as one batch message (channels the kind lacks are left out)."""
        rows = self.values[asset]
        present = [c for c in range(len(CHANNELS)) if not np.isnan(rows[:, c]).all()]
        channels = {CHANNELS[c]: [None if v != v else v for v in rows[:, c].tolist()] for c in present}
        return ReadingBatchV1.model_validate(
            {
                "schema": BATCH_SCHEMA,
                "asset_id": self.assets[asset].asset_id,
                "ts": self.ts_ms.tolist(),
                "channels": channels,
                "backfill": backfill,
                "units": {name: UNITS[name] for name in channels},
            }
        )


class Simulator:
    """Same arguments, same output: every value is a pure function of seed, asset and tick.

    Tick k is at `start + k / rate_hz`. Data is generated in blocks of 1024 ticks, each
    with its own seeded generators, so any time slice can be produced on its own.
    """

    def __init__(
        self,
        assets: int | Sequence[AssetSpec] = 4,
        rate_hz: float = 1.0,
        seed: int = 0,
        faults: Sequence[FaultSpec] | str = (),
        start: datetime = DEFAULT_START,
        dropout_rate: float = 0.001,
    ) -> None:
        if not 0 < rate_hz <= 1000:
            raise ValueError(f"rate_hz must be in (0, 1000], got {rate_hz}")
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if not 0 <= dropout_rate < 1:
            raise ValueError(f"dropout_rate must be in [0, 1), got {dropout_rate}")
        self.assets = default_roster(assets) if isinstance(assets, int) else tuple(assets)
        self.rate_hz, self.seed, self.dropout_rate = rate_hz, seed, dropout_rate
        self.start_ms = to_epoch_ms(start)
        self._roster = roster_arrays(self.assets, seed)
        self._cache: dict[int, np.ndarray] = {}
        specs = parse_faults(faults) if isinstance(faults, str) else list(faults)
        self.faults = [self._place(spec) for spec in specs]

    def tick_ms(self, ticks: np.ndarray) -> np.ndarray:
        return self.start_ms + np.floor(ticks * (1000.0 / self.rate_hz) + 0.5).astype(np.int64)

    def tick_count(self, duration: timedelta) -> int:
        return int(np.ceil(duration.total_seconds() * self.rate_hz - 1e-9))

    def slice(self, first_tick: int, count: int) -> SimSlice:
        """Ticks `first_tick` .. `first_tick + count - 1` of every asset."""
        ticks = np.arange(first_tick, first_tick + count, dtype=np.int64)
        blocks = range(first_tick // BLOCK, (first_tick + count - 1) // BLOCK + 1)
        data = np.concatenate([self._block(b) for b in blocks], axis=1)
        offset = first_tick - blocks[0] * BLOCK
        values = data[:, offset : offset + count]
        return SimSlice(self.tick_ms(ticks), self.assets, values)

    def ticks(
        self, duration: timedelta, ticks_per_batch: int = 1, *, backfill: bool = False
    ) -> Iterator[list[ReadingBatchV1]]:
        """Per step of `ticks_per_batch` ticks, one batch message per asset."""
        total = self.tick_count(duration)
        for first in range(0, total, ticks_per_batch):
            piece = self.slice(first, min(ticks_per_batch, total - first))
            yield [piece.batch(a, backfill=backfill) for a in range(len(self.assets))]

    def readings(self, duration: timedelta) -> Iterator[ReadingV1]:
        """One ReadingV1 per asset and tick: convenient, but the slow path."""
        for batches in self.ticks(duration, ticks_per_batch=BLOCK):
            for batch in batches:
                yield from batch.readings()

    def frame(self, asset_id: str, tick: int, samples: int = 4096, sample_rate_hz: float = 5120.0) -> FrameV1:
        """A vibration waveform starting at `tick`, consistent with the faults active then."""
        a = self._asset_index(asset_id)
        rms = float(self._clean_block(tick // BLOCK)[a, tick % BLOCK, 0])
        rng = asset_rng(self.seed, asset_id, _FRAME_STREAM, tick)
        t = np.arange(samples) / sample_rate_hz
        gains = mechanical_state(self.faults, a, tick)
        wave = waveform(rms, ROTATION_HZ[self.assets[a].kind], gains, t, rng)
        return FrameV1.model_validate(
            {
                "schema": "frame.v1",
                "asset_id": asset_id,
                "channel": "vibration_velocity",
                "ts_start": int(self.tick_ms(np.array([tick]))[0]),
                "unit": "mm/s",
                "sample_rate_hz": sample_rate_hz,
                "samples": wave.tolist(),
            }
        )

    def label_windows(self, duration: timedelta | None = None) -> list[LabelWindow]:
        """Every fault's affected span, optionally only those starting within `duration`."""
        last = None if duration is None else self.tick_count(duration) - 1
        return windows_of(self.faults, self.assets, self.tick_ms, last)

    def labels(self, duration: timedelta | None = None) -> dict[str, list[list[str]]]:
        """NAB `combined_windows.json`: `{"<asset_id>.csv": [[start, end], ...]}`."""
        return nab_windows(self.assets, self.label_windows(duration))

    def _block(self, block: int) -> np.ndarray:
        if block not in self._cache:
            values = self._clean_block(block).copy()
            ticks = np.arange(block * BLOCK, (block + 1) * BLOCK)
            apply_faults(values, ticks, self.faults, self._roster.nominal)
            np.maximum(values, 0.0, out=values)
            shape = (BLOCK, len(CHANNELS))
            values[dropout_mask(self.assets, self.seed, block, shape, self.dropout_rate)] = np.nan
            values[~np.broadcast_to(self._roster.has_channel[:, None, :], values.shape)] = np.nan
            self._cache = {block: values, **dict(list(self._cache.items())[-3:])}
        return self._cache[block]

    def _clean_block(self, block: int) -> np.ndarray:
        ticks = np.arange(block * BLOCK, (block + 1) * BLOCK)
        t_s = self.tick_ms(ticks) / 1000.0
        return clean_values(self._roster, self.assets, self.seed, block, t_s)

    def channels_of(self, asset_id: str) -> tuple[str, ...]:
        """The channels this asset's kind has, in CHANNELS order."""
        has = self._roster.has_channel[self._asset_index(asset_id)]
        return tuple(name for name, present in zip(CHANNELS, has, strict=True) if present)

    def _asset_index(self, asset_id: str) -> int:
        for index, spec in enumerate(self.assets):
            if spec.asset_id == asset_id:
                return index
        known = ", ".join(s.asset_id for s in self.assets)
        raise ValueError(f"no simulated asset {asset_id!r}; assets are {known}")

    def _place(self, spec: FaultSpec) -> PlacedFault:
        a = self._asset_index(spec.asset_id)
        if spec.channel not in self.channels_of(spec.asset_id):
            kind = self.assets[a].kind.value
            raise ValueError(f"fault {spec}: a {kind} has no channel {spec.channel!r}")
        first = int(np.ceil(spec.start.total_seconds() * self.rate_hz - 1e-9))
        end = int(np.ceil(spec.end.total_seconds() * self.rate_hz - 1e-9))
        c = CHANNELS.index(spec.channel)
        onset = float(self._clean_block(first // BLOCK)[a, first % BLOCK, c])
        return PlacedFault(spec, a, c, first, max(first, end - 1), stuck_value=onset)
