"""Spectral features of frames: N samples of one channel at a fixed sample rate."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def power_spectrum(frames: np.ndarray, sample_rate_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """One-sided power per frequency bin of each frame (rows), after removing the frame mean.

    The mean is removed so a DC offset (sensor bias) cannot dominate the band energies.
    """
    samples = np.atleast_2d(np.asarray(frames, dtype=np.float64))
    centred = samples - samples.mean(axis=-1, keepdims=True)
    spectrum = np.fft.rfft(centred, axis=-1)
    power = np.square(spectrum.real)
    power += np.square(spectrum.imag)
    power /= samples.shape[-1]
    frequencies = np.fft.rfftfreq(samples.shape[-1], d=1.0 / sample_rate_hz)
    return frequencies, power


def _band_sums(
    frequencies: np.ndarray, power: np.ndarray, bands_hz: Sequence[tuple[float, float]]
) -> np.ndarray:
    """The bins of a half-open band [low, high) are one slice: the frequencies ascend."""
    columns = []
    for low, high in bands_hz:
        first, stop = np.searchsorted(frequencies, (low, high), side="left")
        columns.append(power[:, first:max(first, stop)].sum(axis=-1))
    return np.stack(columns, axis=-1)


def _dominant(frequencies: np.ndarray, power: np.ndarray) -> np.ndarray:
    if power.shape[-1] < 2:
        return np.zeros(power.shape[0])
    return frequencies[1:][np.argmax(power[:, 1:], axis=-1)]


def band_energies(
    frames: np.ndarray, sample_rate_hz: float, bands_hz: Sequence[tuple[float, float]]
) -> np.ndarray:
    """Energy in each half-open band [low, high) Hz, shape (frames, bands)."""
    return _band_sums(*power_spectrum(frames, sample_rate_hz), bands_hz)


def dominant_frequency(frames: np.ndarray, sample_rate_hz: float) -> np.ndarray:
    """Frequency (Hz) of the strongest non-DC bin of each frame; the lowest such bin on ties."""
    return _dominant(*power_spectrum(frames, sample_rate_hz))


def spectral_features(
    frames: np.ndarray, sample_rate_hz: float, bands_hz: Sequence[tuple[float, float]]
) -> tuple[np.ndarray, np.ndarray]:
    """(band energies (frames, bands), dominant frequency (frames,)) from one FFT of each frame."""
    frequencies, power = power_spectrum(frames, sample_rate_hz)
    return _band_sums(frequencies, power, bands_hz), _dominant(frequencies, power)


def frame_features(
    frames: np.ndarray, sample_rate_hz: float, bands_hz: Sequence[tuple[float, float]]
) -> dict[str, np.ndarray]:
    """Named spectral features of each frame, ready to join the frame's time-domain features."""
    energies, dominant = spectral_features(frames, sample_rate_hz, bands_hz)
    named = {f"band_{low:g}_{high:g}hz": energies[:, i] for i, (low, high) in enumerate(bands_hz)}
    named["dominant_hz"] = dominant
    return named
