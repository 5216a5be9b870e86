"""Fault-free machine signals: a daily load cycle, slow zero-mean wander and noise."""

from __future__ import annotations

import numpy as np

from pdm.simulation.assets import CHANNELS, MEAN_LOAD, AssetSpec, RosterArrays, asset_rng

_NOISE_STREAM = 1
_DROPOUT_STREAM = 2
_TWO_PI = 2.0 * np.pi


def load(roster: RosterArrays, t_s: np.ndarray) -> np.ndarray:
    """Load in [0.05, 1] per (asset, time); every term is periodic, so there is no drift.

    The daily term peaks mid-afternoon (UTC) shifted per asset; two slower sinusoids
    with per-asset periods keep days from being identical.
    """
    t = t_s[None, :] if t_s.ndim == 1 else t_s
    hour = np.mod(t, 86_400.0) / 3600.0
    daily = 0.3 * np.sin(_TWO_PI * (hour - 9.0 - roster.day_phase_h[:, None]) / 24.0)
    wander = np.zeros_like(daily)
    for k in range(roster.wander.shape[1]):
        period, phase, amplitude = (roster.wander[:, k, i][:, None] for i in range(3))
        wander += amplitude * np.sin(_TWO_PI * t / period + phase)
    return np.clip(MEAN_LOAD + daily + wander, 0.05, 1.0)


def clean_values(
    roster: RosterArrays, specs: tuple[AssetSpec, ...], seed: int, block: int, t_s: np.ndarray
) -> np.ndarray:
    """(assets, ticks, channels) of one block, before faults and dropouts.

    Noise comes from a generator keyed by (seed, asset, block), so any time slice can be
    regenerated on its own and an asset's data does not change when others are added.
    """
    out = np.empty((len(specs), t_s.size, len(CHANNELS)))
    for c in range(len(CHANNELS)):
        lag = np.nan_to_num(roster.lag_s[:, c])[:, None]
        level = load(roster, t_s[None, :] - lag)
        swing = 1.0 + roster.load_gain[:, c, None] * (level - MEAN_LOAD)
        out[:, :, c] = roster.nominal[:, c, None] * swing
    noise = np.stack(
        [
            asset_rng(seed, spec.asset_id, _NOISE_STREAM, block).standard_normal(out.shape[1:])
            for spec in specs
        ]
    )
    out += noise * roster.noise[:, None, :]
    return out


def dropout_mask(
    specs: tuple[AssetSpec, ...], seed: int, block: int, shape: tuple[int, int], rate: float
) -> np.ndarray:
    """True where a sensor sent nothing; never a whole reading, so every row has a value."""
    draws = np.stack([asset_rng(seed, spec.asset_id, _DROPOUT_STREAM, block).random(shape) for spec in specs])
    mask = draws < rate
    mask[..., 0] &= ~mask[..., 1:].all(axis=-1)
    return mask
