"""Scoring one asset's readings: chunking, restarts and redeliveries never change a bit."""

from dataclasses import replace

import numpy as np
import pytest

from pdm.scoring import (
    DEFAULT_MODEL,
    AssetScoringState,
    MicroBatch,
    score_asset,
    score_history,
    score_micro_batch,
)
from pdm.scoring.model import DEFAULT_DETECTOR
from pdm.simulation import Simulator

pytestmark = pytest.mark.unit


def history(minutes: int = 40, faults: str = "") -> tuple[np.ndarray, np.ndarray]:
    sim = Simulator(1, rate_hz=1.0, seed=2, faults=faults)
    piece = sim.slice(0, minutes * 60)
    return piece.ts_ms, piece.values[0]


def stream(ts, values, cuts, restore=False):
    state, scores, rows = AssetScoringState.empty(DEFAULT_MODEL), [], []
    for part in np.split(np.arange(len(ts)), cuts):
        result, state = score_asset(DEFAULT_MODEL, state, "pump-1", ts[part], values[part])
        scores.append(result.scores.raw)
        rows.append(result.features.values)
        if restore:
            state = AssetScoringState.from_bytes(state.to_bytes(), DEFAULT_MODEL.feature_set.tag)
    return np.concatenate(scores), np.concatenate(rows), state


def test_scores_do_not_depend_on_how_the_stream_was_chunked() -> None:
    ts, values = history()
    one_shot, one_rows, _ = stream(ts, values, [])

    chunked, chunked_rows, _ = stream(ts, values, [1, 7, 500, 501, 1800], restore=True)

    assert np.array_equal(chunked, one_shot)
    assert np.array_equal(chunked_rows, one_rows, equal_nan=True)


def test_a_redelivered_batch_changes_neither_scores_nor_state() -> None:
    ts, values = history(20)
    _, _, state = stream(ts[:600], values[:600], [])

    result, again = score_asset(DEFAULT_MODEL, state, "pump-1", ts[500:600], values[500:600])

    assert len(result.features) == 0 and result.dropped == 100
    assert again.to_bytes() == state.to_bytes()


def test_batch_path_equals_micro_batches_of_many_assets() -> None:
    sim = Simulator(3, rate_hz=1.0, seed=4)
    piece = sim.slice(0, 1800)
    states: dict = {}
    streamed: dict[str, list[np.ndarray]] = {}
    for first in range(0, 1800, 90):
        batch = MicroBatch(DEFAULT_MODEL.feature_set.channels)
        for a in range(3):
            batch.add(sim.slice(first, 90).batch(a))
        results, new = score_micro_batch(lambda _: DEFAULT_MODEL, states, batch)
        states.update(new)
        for r in results:
            streamed.setdefault(r.asset_id, []).append(r.scores.raw)

    for a, spec in enumerate(sim.assets):
        batch_results, _ = score_history(lambda _: DEFAULT_MODEL, spec.asset_id, piece.ts_ms, piece.values[a][:, :4])
        assert np.array_equal(np.concatenate(streamed[spec.asset_id]),
                              np.concatenate([r.scores.raw for r in batch_results]))


def test_assets_of_different_detector_settings_in_one_batch_score_as_each_alone() -> None:
    """The batch updates the detectors of one configuration together; mixing them changes no bit."""
    sim = Simulator(4, rate_hz=1.0, seed=5)
    other = replace(DEFAULT_MODEL, version="short-history",
                    detector_params=replace(DEFAULT_DETECTOR, drift=replace(DEFAULT_DETECTOR.drift, history=120)))
    models = {spec.asset_id: (other if a % 2 else DEFAULT_MODEL) for a, spec in enumerate(sim.assets)}
    together: dict = {}
    alone = {spec.asset_id: AssetScoringState.empty(models[spec.asset_id]) for spec in sim.assets}
    for first in range(0, 1500, 150):
        batch = MicroBatch(DEFAULT_MODEL.feature_set.channels)
        for a in range(4):
            batch.add(sim.slice(first, 150).batch(a))
        results, new = score_micro_batch(models.__getitem__, together, batch)
        together.update(new)
        for r in results:
            ts_ms, values = next((t, v) for asset, t, v in _per_asset(sim, first, 150) if asset == r.asset_id)
            want, alone[r.asset_id] = score_asset(models[r.asset_id], alone[r.asset_id], r.asset_id, ts_ms, values)
            assert r.scores.raw.tobytes() == want.scores.raw.tobytes()
            assert r.raised.tolist() == want.raised.tolist()
    assert {a: s.to_bytes() for a, s in together.items()} == {a: s.to_bytes() for a, s in alone.items()}


def _per_asset(sim: Simulator, first: int, count: int):
    piece = sim.slice(first, count)
    return [(spec.asset_id, piece.ts_ms, piece.values[a][:, :4]) for a, spec in enumerate(sim.assets)]


def test_readings_that_close_no_window_keep_the_detector_state_itself() -> None:
    ts, values = history(minutes=20)
    _, _, state = stream(ts[:-5], values[:-5, :4], [])

    result, after = score_asset(DEFAULT_MODEL, state, "pump-1", ts[-5:-4], values[-5:-4, :4])

    assert len(result.scores.raw) == 0
    assert after.detector is state.detector and after.last_ts_ms == int(ts[-5])


def test_state_bytes_are_sorted_compact_json_whether_the_detector_came_from_cache_or_not() -> None:
    import json

    ts, values = history(minutes=20)
    _, _, state = stream(ts, values[:, :4], [300, 900])
    plain = {"windows": state.windows.to_dict(), "detector": state.detector.to_dict(),
             "hysteresis": state.hysteresis.as_dict(), "model_version": state.model_version,
             "last_ts_ms": state.last_ts_ms}

    first, cached = state.to_bytes(), state.to_bytes()

    assert first == cached == json.dumps(plain, sort_keys=True, separators=(",", ":")).encode()
