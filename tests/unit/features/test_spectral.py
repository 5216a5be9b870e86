"""Spectral features of frames against known sinusoids."""

import numpy as np
import pytest

from pdm.features import band_energies, dominant_frequency, frame_features, spectral_features

pytestmark = pytest.mark.unit

RATE = 1000.0


def sine(frequency: float, amplitude: float = 1.0, samples: int = 1000) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * frequency * np.arange(samples) / RATE)


def test_dominant_frequency_finds_the_strongest_tone() -> None:
    frames = np.stack([sine(50) + 0.2 * sine(120), sine(200, 0.1) + sine(310)])

    found = dominant_frequency(frames, RATE)

    assert found.tolist() == [50.0, 310.0]


def test_band_energy_of_a_tone_lies_in_its_band_and_follows_parseval() -> None:
    frame = sine(100, amplitude=2.0)

    energies = band_energies(frame, RATE, [(0, 50), (50, 150), (150, 500)])

    assert energies[0, 0] == pytest.approx(0.0, abs=1e-9)
    assert energies[0, 2] == pytest.approx(0.0, abs=1e-9)
    assert energies[0, 1] == pytest.approx(np.sum(frame**2) / 2, rel=1e-9)


def test_dc_offset_does_not_count_as_energy() -> None:
    features = frame_features(sine(30) + 100.0, RATE, [(0, 10)])

    assert features["band_0_10hz"][0] == pytest.approx(0.0, abs=1e-6)
    assert features["dominant_hz"][0] == 30.0


def test_a_band_is_half_open_at_a_bin_frequency() -> None:
    frame = sine(150)  # 1000 samples at 1000 Hz: bins every 1 Hz, the tone on bin 150

    energies = band_energies(frame, RATE, [(50, 150), (150, 500), (600, 400)])

    assert energies[0, 0] == pytest.approx(0.0, abs=1e-9)
    assert energies[0, 1] == pytest.approx(np.sum(frame**2) / 2, rel=1e-9)
    assert energies[0, 2] == 0.0  # an empty band


def test_one_spectrum_gives_the_same_bits_as_each_feature_alone() -> None:
    frames = np.random.default_rng(3).normal(size=(5, 512))
    bands = [(0, 40), (40, 220.5), (220.5, 500)]

    energies, dominant = spectral_features(frames, RATE, bands)

    assert energies.tobytes() == band_energies(frames, RATE, bands).tobytes()
    assert dominant.tobytes() == dominant_frequency(frames, RATE).tobytes()
