"""Frame scoring: spectral features per frame, a causal per-channel detector, exact state, channel named."""

from functools import cache

import numpy as np
import orjson
import pytest

from pdm.contracts import FrameV1
from pdm.scoring.frame_batch import encode_frames, score_frame_batch
from pdm.scoring.frames import DEFAULT_FRAME_MODEL, AssetFrameState
from pdm.simulation import Simulator

pytestmark = pytest.mark.unit
MODEL = DEFAULT_FRAME_MODEL


@cache
def frames(faults: str = "", count: int = 150, seed: int = 0) -> tuple[FrameV1, ...]:
    """Every 10 s one 1024-sample frame per asset, assets interleaved as they would arrive."""
    sim = Simulator(2, rate_hz=1.0, seed=seed, faults=faults)
    return tuple(sim.frame(s.asset_id, k * 10, samples=1024) for k in range(count) for s in sim.assets)


def raw_scores(found: list) -> dict[tuple[str, int], float]:  # type: ignore[type-arg]
    return {(r.asset_id, t): s for r in found for t, s in zip(r.ts_ms.tolist(), r.raw.tolist(), strict=True)}


def test_frames_scored_in_chunks_through_serialised_state_equal_one_call() -> None:
    history = frames()
    whole, _ = score_frame_batch(MODEL, {}, history)

    states: dict[str, AssetFrameState | None] = {}
    parts = []
    for start in range(0, len(history), 37):
        found, new = score_frame_batch(MODEL, states, history[start : start + 37])
        states = {a: AssetFrameState.from_bytes(s.to_bytes()) for a, s in new.items()}
        parts += found

    assert raw_scores(parts) == raw_scores(whole)


def test_a_redelivered_frame_is_scored_no_second_time() -> None:
    history = frames()
    _, states = score_frame_batch(MODEL, {}, history[:40])

    again, _ = score_frame_batch(MODEL, states, history[30:40])

    assert all(len(r.ts_ms) == 0 for r in again)


def test_each_score_names_the_frame_channel_and_the_frame_model() -> None:
    found, _ = score_frame_batch(MODEL, {}, frames()[:4])

    scores = [orjson.loads(v) for r in found for _, v in encode_frames(r).scores]

    assert len(scores) == 4
    assert {s["model_version"] for s in scores} == {MODEL.version}
    assert all(s["top_channels"] == [["vibration_velocity", 1.0]] for s in scores)


def test_fault_free_frames_raise_nothing_and_an_imbalance_raises_at_its_onset() -> None:
    quiet, _ = score_frame_batch(MODEL, {}, frames())

    faulty, _ = score_frame_batch(MODEL, {}, frames("imbalance:pump-1@20m"))

    assert all(len(r.raised) == 0 for r in quiet)
    raised = {r.asset_id: r.ts_ms[r.raised].tolist() for r in faulty}
    onset = Simulator(2, seed=0).start_ms + 20 * 60_000
    assert raised["motor-1"] == [] and raised["pump-1"] and onset <= raised["pump-1"][0] <= onset + 30_000


def test_frame_features_do_not_depend_on_what_else_is_in_the_batch() -> None:
    history = frames()[:10]

    together, _ = score_frame_batch(MODEL, {}, history)
    apart = [r for f in history for r in score_frame_batch(MODEL, {}, [f])[0]]

    assert np.array_equal(np.vstack([r.features for r in apart if r.asset_id == "pump-1"]),
                          next(r.features for r in together if r.asset_id == "pump-1"))
