"""How each labelled fault bends the signals, on readings and on vibration frames."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pdm.simulation.assets import CHANNELS
from pdm.simulation.faults import FaultKind, FaultSpec

VIB = CHANNELS.index("vibration_rms")
TEMP = CHANNELS.index("temperature_c")
BEARING_GAIN = 2.5  # vibration reaches 3.5x nominal at the end of the wear window
BEARING_HEAT_C = 6.0
OVERHEAT_C = 25.0
IMBALANCE_GAIN = 2.2
SPIKE_FRACTION = 0.8


@dataclass(frozen=True, slots=True)
class PlacedFault:
    """A fault resolved onto ticks: it affects ticks `first` .. `last` of `asset`."""

    spec: FaultSpec
    asset: int
    channel: int
    first: int
    last: int
    stuck_value: float = float("nan")

    def progress(self, ticks: np.ndarray) -> np.ndarray:
        """0 at the first affected tick, 1 at the last; NaN outside the window."""
        span = max(self.last - self.first, 1)
        inside = (ticks >= self.first) & (ticks <= self.last)
        return np.where(inside, (ticks - self.first) / span, np.nan)


def apply_faults(
    values: np.ndarray, ticks: np.ndarray, faults: list[PlacedFault], nominal: np.ndarray
) -> None:
    """Mutate (assets, ticks, channels) values in place for every fault in the slice."""
    for fault in faults:
        p = fault.progress(ticks)
        hit = ~np.isnan(p)
        if not hit.any():
            continue
        row, pk = values[fault.asset], p[hit]
        kind = fault.spec.kind
        if kind is FaultKind.BEARING_WEAR:
            row[hit, VIB] *= 1.0 + BEARING_GAIN * pk**2
            row[hit, TEMP] += BEARING_HEAT_C * pk
        elif kind is FaultKind.OVERHEAT:
            row[hit, TEMP] += OVERHEAT_C * pk
        elif kind is FaultKind.IMBALANCE:
            row[hit, VIB] *= IMBALANCE_GAIN
        elif kind is FaultKind.STUCK:
            row[hit, fault.channel] = fault.stuck_value
        elif kind is FaultKind.SPIKE:
            row[hit, fault.channel] += SPIKE_FRACTION * nominal[fault.asset, fault.channel]


def mechanical_state(faults: list[PlacedFault], asset: int, tick: int) -> tuple[float, float]:
    """(imbalance, bearing) gains of vibration RMS at one tick, for frames (1.0: healthy)."""
    imbalance, bearing = 1.0, 1.0
    for fault in faults:
        if fault.asset != asset:
            continue
        p = float(fault.progress(np.array([tick]))[0])
        if np.isnan(p):
            continue
        if fault.spec.kind is FaultKind.IMBALANCE:
            imbalance = IMBALANCE_GAIN
        elif fault.spec.kind is FaultKind.BEARING_WEAR:
            bearing = 1.0 + BEARING_GAIN * p**2
    return imbalance, bearing


def waveform(
    rms: float,
    rotation_hz: float,
    gains: tuple[float, float],
    t: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Velocity waveform with RMS `rms` times both gains, as the scalar channel shows.

    Healthy: 1x, 2x and broadband noise. Imbalance adds energy at 1x; bearing wear adds a
    3.57x (outer-race) tone with broadband noise. Added parts are orthogonal to the
    healthy one, so their energies add up to exactly the faulty RMS.
    """
    imbalance, bearing = gains
    w = 2.0 * np.pi * rotation_hz * t
    phase = rng.uniform(0, 2 * np.pi, 3)
    healthy = np.sin(w + phase[0]) + 0.35 * np.sin(2 * w + phase[1])
    healthy += 0.25 * rng.standard_normal(t.size)
    healthy *= rms / _rms(healthy)
    one_x = _orthogonal(np.cos(w + phase[0]), healthy)
    tone = np.sin(3.57 * w + phase[2]) + 0.5 * rng.standard_normal(t.size)
    tone = _orthogonal(tone, healthy, one_x)
    extra_1x = rms * np.sqrt(imbalance**2 - 1.0) * one_x / _rms(one_x)
    extra_bearing = rms * imbalance * np.sqrt(bearing**2 - 1.0) * tone / _rms(tone)
    return healthy + extra_1x + extra_bearing


def _orthogonal(x: np.ndarray, *basis: np.ndarray) -> np.ndarray:
    for b in basis:
        x = x - (x @ b) / (b @ b) * b
    return x


def _rms(x: np.ndarray) -> float:
    return max(float(np.sqrt(np.mean(x**2))), 1e-12)
