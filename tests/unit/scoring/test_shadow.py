"""A shadow candidate scores the serving model's windows: same ts, its own version, no anomaly, no state."""

from dataclasses import replace
from datetime import timedelta

import numpy as np
import orjson
import pytest

from pdm.detection import PcaDetector, TrainingContext
from pdm.scoring import DEFAULT_MODEL, AssetScoringState, MicroBatch, encode, score_micro_batch, trained_model
from pdm.scoring.outputs import encode_shadow
from pdm.scoring.shadow import shadow_micro_batch
from pdm.simulation import Simulator

pytestmark = pytest.mark.unit
ONLINE_CANDIDATE = replace(DEFAULT_MODEL, version="online-candidate")
FAULT = "overheat:pump-1@20m+15m"


def pca_candidate() -> object:
    sim = Simulator(1, rate_hz=1.0, seed=99)
    piece = sim.slice(0, sim.tick_count(timedelta(minutes=20)))
    micro = MicroBatch(DEFAULT_MODEL.feature_set.channels)
    micro.add(piece.batch(0))
    results, _ = score_micro_batch(lambda _: DEFAULT_MODEL, {}, micro)
    fs = DEFAULT_MODEL.feature_set
    context = TrainingContext(fs.tag, fs.feature_names, "2026-01-01T00:00:00Z", "2026-01-01T00:20:00Z")
    detector = PcaDetector().fit(np.nan_to_num(results[0].features.values), context)
    return trained_model("pca-candidate", detector.to_artifact().to_bytes())


def stream_with_shadow(candidate, minutes: int = 40, faults: str = "", seed: int = 2, cut: int = 120):
    """Micro-batches of `cut` ticks for two assets, with `candidate` shadowing pump-1 only."""
    sim = Simulator(2, rate_hz=1.0, seed=seed, faults=faults)
    states: dict = {}
    served, shadows = [], []
    for first in range(0, minutes * 60, cut):
        piece = sim.slice(first, cut)
        micro = MicroBatch(DEFAULT_MODEL.feature_set.channels)
        for a in range(2):
            micro.add(piece.batch(a))
        results, new_states = score_micro_batch(lambda _: DEFAULT_MODEL, states, micro)
        shadows += shadow_micro_batch(lambda a: (candidate,) if candidate and a == "pump-1" else (), states,
                                      results)
        served += results
        states = new_states
    return sim, served, shadows, states


def test_an_online_candidate_scores_the_same_windows_without_touching_the_serving_state() -> None:
    sim, served, shadows, states = stream_with_shadow(ONLINE_CANDIDATE, faults=FAULT)
    pump = sim.assets[0].asset_id
    mine = [r for r in served if r.asset_id == pump and len(r.features.values)]

    assert len(shadows) == len(mine) > 0
    for live, shadow in zip(mine, shadows, strict=True):
        assert shadow.asset_id == pump and shadow.model.version == "online-candidate"
        assert np.array_equal(shadow.row_ts_ms, live.row_ts_ms)
        assert np.array_equal(shadow.scores.raw, live.scores.raw), "same detector, same rows, same bits"
        assert len(shadow.raised) == 0
    assert all(s.model_version == DEFAULT_MODEL.version for s in states.values())


def test_serving_state_is_the_same_bits_with_or_without_a_shadow() -> None:
    _, _, _, with_shadow = stream_with_shadow(ONLINE_CANDIDATE, minutes=20)
    _, _, none, without = stream_with_shadow(None, minutes=20)
    assert none == []

    assert {a: s.to_bytes() for a, s in with_shadow.items()} == {a: s.to_bytes() for a, s in without.items()}
    assert isinstance(next(iter(with_shadow.values())), AssetScoringState)


def test_a_trained_candidate_sends_scores_on_the_shadow_topic_only_and_never_an_anomaly() -> None:
    candidate = pca_candidate()
    _, served, shadows, _ = stream_with_shadow(candidate, faults=FAULT)
    assert any(len(r.raised) for r in served if r.asset_id == "pump-1"), "the serving model raises here"

    for live, shadow in zip([r for r in served if r.asset_id == shadows[0].asset_id and len(r.features.values)],
                            shadows, strict=True):
        out = encode_shadow(shadow)
        assert out.features == out.scores == out.anomalies == []
        live_ts = [orjson.loads(v)["ts"] for _, v in encode(live).scores]
        sent = [orjson.loads(v) for _, v in out.shadow_scores]
        assert [s["ts"] for s in sent] == live_ts
        assert {s["model_version"] for s in sent} == {"pca-candidate"}
        assert [s["is_anomalous"] for s in sent] == [s["score"] >= s["threshold"] for s in sent]


def test_assets_without_a_shadow_or_without_a_closed_window_get_no_shadow_score() -> None:
    _, served, shadows, _ = stream_with_shadow(ONLINE_CANDIDATE, minutes=5, cut=5)

    assert {s.asset_id for s in shadows} == {served[0].asset_id}
    assert all(len(s.features.values) for s in shadows)
