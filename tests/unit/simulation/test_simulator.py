"""Simulator: determinism, normal behaviour without faults, and each fault's signature."""

from datetime import timedelta

import numpy as np
import pytest

from pdm.contracts import FrameV1, ReadingBatchV1, decode_message
from pdm.simulation import CHANNELS, AssetKind, AssetSpec, Simulator

pytestmark = pytest.mark.unit

VIB, TEMP = CHANNELS.index("vibration_rms"), CHANNELS.index("temperature_c")


def channel(sim: Simulator, asset_id: str, name: str, first: int, count: int) -> np.ndarray:
    a = [s.asset_id for s in sim.assets].index(asset_id)
    return sim.slice(first, count).values[a, :, CHANNELS.index(name)]


def test_the_same_seed_gives_identical_output() -> None:
    def make() -> Simulator:
        return Simulator(assets=4, seed=7, faults="bearing_wear:pump-1@2m+5m,stuck:motor-1@1m")

    first, second = make().slice(0, 1500), make().slice(0, 1500)

    np.testing.assert_array_equal(first.values, second.values)
    np.testing.assert_array_equal(first.ts_ms, second.ts_ms)


def test_another_seed_gives_other_data() -> None:
    a, b = Simulator(seed=1).slice(0, 100), Simulator(seed=2).slice(0, 100)

    assert not np.allclose(a.values, b.values, equal_nan=True)


def test_a_time_slice_is_the_same_however_the_run_is_cut() -> None:
    sim = Simulator(assets=3, seed=3, faults="spike:motor-1@1000s")

    whole = sim.slice(500, 2500).values
    pieces = np.concatenate(
        [
            Simulator(assets=3, seed=3, faults="spike:motor-1@1000s").slice(first, 500).values
            for first in range(500, 3000, 500)
        ],
        axis=1,
    )

    np.testing.assert_array_equal(whole, pieces)


def test_an_assets_data_does_not_depend_on_its_neighbours() -> None:
    alone = Simulator(assets=[AssetSpec("pump-9", AssetKind.PUMP)], seed=5)
    crowd = Simulator(
        assets=[AssetSpec("motor-3", AssetKind.MOTOR), AssetSpec("pump-9", AssetKind.PUMP)], seed=5
    )

    np.testing.assert_array_equal(alone.slice(0, 300).values[0], crowd.slice(0, 300).values[1])


def test_fault_free_assets_repeat_their_day_without_drifting() -> None:
    sim = Simulator(assets=4, rate_hz=1 / 60, seed=11, dropout_rate=0.0)
    day = 24 * 60

    values = sim.slice(0, 3 * day).values

    for a, spec in enumerate(sim.assets):
        for name in sim.channels_of(spec.asset_id):
            series = values[a, :, CHANNELS.index(name)]
            first_day, third_day = series[:day].mean(), series[2 * day :].mean()
            assert abs(third_day - first_day) < 0.1 * series.std(), (spec.asset_id, name)
    assert values[:, :, VIB].min() > 0 and 35 < np.nanmean(values[:, :, TEMP]) < 80


def test_an_imbalance_frame_keeps_the_rms_of_the_scalar_channel() -> None:
    sim = Simulator(assets=1, seed=3, dropout_rate=0.0, faults="imbalance:pump-1@10m+5m")
    clean = Simulator(assets=1, seed=3, dropout_rate=0.0)

    frame = sim.frame("pump-1", 700)

    frame_rms = float(np.sqrt(np.mean(frame.array**2)))
    healthy_rms = float(channel(clean, "pump-1", "vibration_rms", 700, 1)[0])
    assert frame_rms == pytest.approx(2.2 * healthy_rms, rel=1e-9)


def test_bearing_wear_ramps_vibration_up_then_the_asset_recovers() -> None:
    sim = Simulator(assets=2, seed=2, faults="bearing_wear:pump-1@10m+20m")

    vib = channel(sim, "pump-1", "vibration_rms", 0, 2400)

    before, late, after = vib[300:600], vib[1680:1800], vib[1900:2400]
    assert np.nanmean(late) > 2.5 * np.nanmean(before)
    assert np.nanmean(vib[900:1000]) < np.nanmean(late)
    assert abs(np.nanmean(after) / np.nanmean(before) - 1) < 0.15


def test_overheat_drifts_temperature_and_leaves_vibration_alone() -> None:
    sim = Simulator(assets=2, seed=2, faults="overheat:motor-1@5m+10m")
    clean = Simulator(assets=2, seed=2)

    hot = channel(sim, "motor-1", "temperature_c", 0, 1200)
    base = channel(clean, "motor-1", "temperature_c", 0, 1200)

    assert np.nanmean(hot[880:900] - base[880:900]) > 20
    np.testing.assert_array_equal(
        channel(sim, "motor-1", "vibration_rms", 0, 1200),
        channel(clean, "motor-1", "vibration_rms", 0, 1200),
    )


def test_imbalance_steps_vibration_for_its_window() -> None:
    sim = Simulator(assets=1, seed=4, faults="imbalance:pump-1@5m+5m")

    vib = channel(sim, "pump-1", "vibration_rms", 0, 900)

    assert np.nanmean(vib[300:600]) / np.nanmean(vib[:300]) == pytest.approx(2.2, rel=0.1)


def test_a_stuck_sensor_flatlines_and_a_spike_hits_one_reading() -> None:
    sim = Simulator(
        assets=2,
        seed=6,
        dropout_rate=0.0,
        faults="stuck:pump-1#pressure_bar@1m+2m,spike:motor-1@3m",
    )
    clean = Simulator(assets=2, seed=6, dropout_rate=0.0)

    pressure = channel(sim, "pump-1", "pressure_bar", 0, 400)
    jump = channel(sim, "motor-1", "vibration_rms", 0, 400) - channel(
        clean, "motor-1", "vibration_rms", 0, 400
    )

    assert np.unique(pressure[60:180]).size == 1 and np.unique(pressure[180:300]).size > 1
    assert np.flatnonzero(jump).tolist() == [180]


def test_faults_on_unknown_assets_or_missing_channels_are_refused() -> None:
    with pytest.raises(ValueError, match="no simulated asset 'pump-9'"):
        Simulator(assets=2, faults="overheat:pump-9@1m")
    with pytest.raises(ValueError, match="has no channel 'pressure_bar'"):
        Simulator(assets=2, faults="stuck:motor-1#pressure_bar@1m")


def test_dropouts_blank_single_channels_never_whole_readings() -> None:
    sim = Simulator(assets=4, seed=8, dropout_rate=0.05)

    values = sim.slice(0, 2000).values

    pumps = values[0::2]
    assert 0.03 < np.isnan(pumps).mean() < 0.07
    assert not np.isnan(values).all(axis=2).any()


def test_ticks_yield_one_valid_batch_per_asset_per_step() -> None:
    sim = Simulator(assets=3, rate_hz=10.0, seed=1)

    steps = list(sim.ticks(timedelta(seconds=2), ticks_per_batch=5))

    assert len(steps) == 4 and all(len(step) == 3 for step in steps)
    first = steps[0][1]
    assert first.asset_id == "motor-1" and len(first.ts) == 5
    assert "pressure_bar" not in first.channels and first.units == {
        "vibration_rms": "mm/s",
        "temperature_c": "degC",
        "current_a": "A",
    }
    assert first.ts[1] - first.ts[0] == 100
    decoded = decode_message(first.to_json())
    assert isinstance(decoded, ReadingBatchV1)
    np.testing.assert_array_equal(decoded.to_arrays().values, first.to_arrays().values)


def test_labels_follow_the_nab_combined_windows_shape() -> None:
    sim = Simulator(
        assets=3, seed=1, faults="overheat:motor-1@5m+10m,spike:motor-1@7m,bearing_wear:pump-2@1h"
    )

    labels = sim.labels(duration=timedelta(minutes=30))

    assert labels == {
        "pump-1.csv": [],
        "motor-1.csv": [["2026-01-01 00:05:00.000000", "2026-01-01 00:14:59.000000"]],
        "pump-2.csv": [],
    }
    assert [w.kind for w in sim.label_windows()] == ["overheat", "spike", "bearing_wear"]


def test_an_imbalance_frame_carries_its_extra_energy_at_the_rotation_frequency() -> None:
    sim = Simulator(assets=1, seed=3, faults="imbalance:pump-1@10m+5m")

    healthy, faulty = sim.frame("pump-1", 300), sim.frame("pump-1", 700)

    def one_x(frame: FrameV1) -> float:
        spectrum = np.abs(np.fft.rfft(frame.array))
        freqs = np.fft.rfftfreq(frame.array.size, 1 / frame.sample_rate_hz)
        return float(spectrum[np.argmin(np.abs(freqs - 24.75))])

    assert one_x(faulty) > 2.0 * one_x(healthy)
    assert faulty.frame_id != healthy.frame_id
