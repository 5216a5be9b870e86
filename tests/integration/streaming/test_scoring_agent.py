"""The scoring agent turns a simulated history into one score and one feature vector per window."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from pdm.scoring import DEFAULT_VERSION
from pdm.settings import Settings
from pdm.simulation import Simulator
from tests.integration.conftest import WorkerProcess
from tests.integration.streaming.conftest import expected_windows, publish_history, read_scores, score_key

pytestmark = pytest.mark.integration


async def test_every_closed_window_is_scored_once_with_versions(
    migrated: Settings, worker: Callable[[], WorkerProcess]
) -> None:
    sim = Simulator(3, rate_hz=1.0, seed=5)
    duration = timedelta(minutes=10)
    worker()

    await publish_history(migrated, sim, duration)
    scores = await read_scores(migrated, expected_windows(sim, duration))

    assert len(scores) == expected_windows(sim, duration)
    assert len({score_key(s) for s in scores}) == len(scores)
    assert {s["model_version"] for s in scores} == {DEFAULT_VERSION}
    assert all(s["feature_set_version"].startswith("pdm-default/v1") for s in scores)
