"""Simulated asset kinds, their channels and each asset's own (seeded) character."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import numpy as np


class AssetKind(StrEnum):
    PUMP = "pump"
    MOTOR = "motor"


@dataclass(frozen=True, slots=True)
class ChannelProfile:
    """Nominal level at mean load; `load_gain` is the relative swing per unit of load."""

    name: str
    unit: str
    nominal: float
    load_gain: float
    noise: float
    lag_s: float = 0.0


@dataclass(frozen=True, slots=True)
class AssetSpec:
    asset_id: str
    kind: AssetKind


CHANNELS: Final = ("vibration_rms", "temperature_c", "current_a", "pressure_bar")
UNITS: Final = {
    "vibration_rms": "mm/s",
    "temperature_c": "degC",
    "current_a": "A",
    "pressure_bar": "bar",
}
ROTATION_HZ: Final = {AssetKind.PUMP: 24.75, AssetKind.MOTOR: 49.5}
MEAN_LOAD: Final = 0.55

PROFILES: Final[dict[AssetKind, tuple[ChannelProfile, ...]]] = {
    AssetKind.PUMP: (
        ChannelProfile("vibration_rms", "mm/s", 2.2, 0.35, 0.08),
        ChannelProfile("temperature_c", "degC", 55.0, 0.20, 0.25, lag_s=2400.0),
        ChannelProfile("current_a", "A", 32.0, 0.60, 0.35),
        ChannelProfile("pressure_bar", "bar", 6.0, 0.30, 0.04),
    ),
    AssetKind.MOTOR: (
        ChannelProfile("vibration_rms", "mm/s", 1.6, 0.30, 0.06),
        ChannelProfile("temperature_c", "degC", 62.0, 0.25, 0.25, lag_s=1800.0),
        ChannelProfile("current_a", "A", 48.0, 0.70, 0.45),
    ),
}


def default_roster(count: int) -> tuple[AssetSpec, ...]:
    """pump-1, motor-1, pump-2, motor-2, ...: both kinds present from two assets on."""
    if count < 1:
        raise ValueError(f"need at least one asset, got {count}")
    kinds = (AssetKind.PUMP, AssetKind.MOTOR)
    return tuple(AssetSpec(f"{kinds[i % 2].value}-{i // 2 + 1}", kinds[i % 2]) for i in range(count))


def asset_key(asset_id: str) -> int:
    """A stable integer per asset id, so an asset's data does not depend on its neighbours."""
    return int.from_bytes(hashlib.sha256(asset_id.encode()).digest()[:8], "big")


@dataclass(frozen=True)
class RosterArrays:
    """Per-asset, per-channel constants as (assets, channels) arrays; NaN: no such channel."""

    nominal: np.ndarray
    load_gain: np.ndarray
    noise: np.ndarray
    lag_s: np.ndarray
    has_channel: np.ndarray
    day_phase_h: np.ndarray  # (assets,)
    wander: np.ndarray  # (assets, 2, 3): period s, phase, amplitude of two slow terms


def roster_arrays(roster: tuple[AssetSpec, ...], seed: int) -> RosterArrays:
    shape = (len(roster), len(CHANNELS))
    fields = {k: np.full(shape, np.nan) for k in ("nominal", "load_gain", "noise", "lag_s")}
    day_phase, wander = np.zeros(len(roster)), np.zeros((len(roster), 2, 3))
    for a, spec in enumerate(roster):
        rng = asset_rng(seed, spec.asset_id, stream=0)
        for profile in PROFILES[spec.kind]:
            c = CHANNELS.index(profile.name)
            fields["nominal"][a, c] = profile.nominal * rng.uniform(0.93, 1.07)
            fields["load_gain"][a, c] = profile.load_gain * rng.uniform(0.9, 1.1)
            fields["noise"][a, c] = profile.noise * rng.uniform(0.85, 1.15)
            fields["lag_s"][a, c] = profile.lag_s
        day_phase[a] = rng.uniform(-1.5, 1.5)
        wander[a] = [
            [rng.uniform(2200, 3200), rng.uniform(0, 2 * np.pi), 0.06],
            [rng.uniform(3 * 3600, 7 * 3600), rng.uniform(0, 2 * np.pi), 0.05],
        ]
    return RosterArrays(
        has_channel=~np.isnan(fields["nominal"]), day_phase_h=day_phase, wander=wander, **fields
    )


def asset_rng(seed: int, asset_id: str, stream: int, block: int = 0) -> np.random.Generator:
    """Independent, reproducible random streams per (seed, asset, purpose, block)."""
    sequence = np.random.SeedSequence(seed, spawn_key=(asset_key(asset_id), stream, block))
    return np.random.Generator(np.random.PCG64(sequence))
