"""The rollouts read-model row, folded from events, says what the aggregate says."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from pdm.alerting.history import plain
from pdm.domain.rollout_evidence import CanaryEvidence, ScoreStats
from pdm.domain.rollouts import Rollout
from pdm.rollout.rows import fold_rollout
from tests.unit.rollout.conftest import GOOD, SAGA, T0, Driver

BAD_CANARY = replace(GOOD, canary=CanaryEvidence(ScoreStats(50, 20), ScoreStats(200, 4)))


def promoted(driver: Driver) -> None:
    driver.step()
    driver.advance(60)
    driver.advance(60)


def rolled_back(driver: Driver) -> None:
    driver.step()
    driver.advance(60)
    driver.advance(60, BAD_CANARY)


def timed_out(driver: Driver) -> None:
    driver.step()
    driver.advance(200, replace(GOOD, shadow=None))


def aborted_while_shadowing(driver: Driver) -> None:
    driver.step()
    driver.rollout.abort("wrong data", driver.now, SAGA)


def fold(rollout: Rollout) -> dict[str, Any] | None:
    row = None
    for position, event in enumerate(rollout.pending_events, start=1):
        row = fold_rollout(row, event, position)
    return row


@pytest.mark.parametrize("scenario", [promoted, rolled_back, timed_out, aborted_while_shadowing])
def test_the_folded_row_matches_the_aggregate(driver: Driver, scenario: Any) -> None:
    scenario(driver)

    row = fold(driver.rollout)

    rollout = driver.rollout
    assert row is not None and row["state"] == rollout.state.value
    assert row["steps"] == plain(rollout.evaluations)
    assert row["canary_assets"] == list(rollout.canary_assets)
    assert row["pending_compensations"] == rollout.pending_compensations
    assert row["reason"] == (rollout.reason or None)
    assert (row["candidate_version"], row["candidate_hash"]) == rollout.candidate
    assert row["started_at"] == T0 and row["position"] == len(rollout.pending_events)
