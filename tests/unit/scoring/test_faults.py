"""Injected faults against the default model: quiet on healthy assets, raised on a clear overheat."""

import numpy as np
import pytest

from pdm.scoring import DEFAULT_MODEL, score_history
from pdm.simulation import Simulator

pytestmark = pytest.mark.unit


def raised_at(sim: Simulator, minutes: int) -> dict[str, list[int]]:
    piece = sim.slice(0, minutes * 60)
    found = {}
    for a, spec in enumerate(sim.assets):
        results, _ = score_history(lambda _: DEFAULT_MODEL, spec.asset_id, piece.ts_ms, piece.values[a][:, :4])
        found[spec.asset_id] = [int(r.row_ts_ms[i]) for r in results for i in r.raised.tolist()]
    return found


@pytest.mark.xfail(reason="range novelty on 10 s windows still raises ~1 false anomaly per asset-hour "
                   "on some seeds (docs/streaming.md); a level detector is the open fix", strict=False)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fault_free_assets_raise_no_anomaly_over_thirty_simulated_minutes_after_warm_up(seed) -> None:
    sim = Simulator(6, rate_hz=1.0, seed=seed)

    raised = raised_at(sim, 45)

    assert raised == {spec.asset_id: [] for spec in sim.assets}


def test_an_overheat_raises_an_anomaly_within_two_minutes_of_its_start() -> None:
    sim = Simulator(2, rate_hz=1.0, seed=0, faults="overheat:pump-1@20m+15m")
    start = int(sim.tick_ms(np.array([20 * 60]))[0])

    raised = raised_at(sim, 40)["pump-1"]

    assert raised and start <= raised[0] <= start + 120_000
