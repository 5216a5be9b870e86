"""`pdm simulate`: when the simulated data starts, and the labels it leaves beside it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pdm.cli.simulate import Pace, resolve_start, write_labels
from pdm.simulation import Simulator

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_real_time_starts_now() -> None:
    assert resolve_start(None, NOW, HOUR, Pace(1, False, 1000), backfill=False) == NOW


def test_accelerated_time_starts_early_enough_that_no_reading_is_ahead_of_the_clock() -> None:
    start = resolve_start(None, NOW, HOUR, Pace(4, False, 1000), backfill=False)
    fastest = resolve_start(None, NOW, HOUR, Pace(1, True, 1000), backfill=False)

    assert start == NOW - timedelta(minutes=45)
    assert fastest == NOW - HOUR


def test_a_start_that_would_outrun_the_gates_clock_skew_is_refused() -> None:
    with pytest.raises(SystemExit) as refused:
        resolve_start("2026-11-21T12:00:00Z", NOW, HOUR, Pace(60, False, 1000), backfill=False)

    assert refused.value.code == 2


def test_a_past_start_needs_backfill() -> None:
    with pytest.raises(SystemExit):
        resolve_start("2026-01-01T00:00:00Z", NOW, HOUR, Pace(1, True, 1000), backfill=False)

    start = resolve_start("2026-01-01T00:00:00Z", NOW, HOUR, Pace(1, True, 1000), backfill=True)

    assert start == datetime(2026, 1, 1, tzinfo=UTC)


def test_labels_are_written_in_nab_shape_and_in_detail(tmp_path: Path) -> None:
    sim = Simulator(2, rate_hz=1, seed=3, faults="overheat:pump-1@1m+2m", start=NOW)

    detailed = write_labels(sim, tmp_path / "labels.json", timedelta(minutes=5))

    nab = json.loads((tmp_path / "labels.json").read_text())
    assert nab["pump-1.csv"] == [["2026-11-21 12:01:00.000000", "2026-11-21 12:02:59.000000"]]
    assert nab["motor-1.csv"] == []
    assert json.loads(detailed.read_text())[0]["kind"] == "overheat"
