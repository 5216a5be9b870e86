"""The saga SIGKILLed at each step in turn still ends promoted or fully rolled back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from pdm.domain.application import PdmApplication
from pdm.rollout.saga import Saga
from pdm.rollout.store import SagaStore
from pdm.settings import Settings
from tests.integration.rollout.conftest import (
    ASSETS,
    BASELINE,
    FAST,
    SERVING,
    SagaProcess,
    record_candidate,
    saga_finished,
    until,
    wait_for,
)

pytestmark = pytest.mark.integration
GOOD_BACKTEST = {"alert_rate_per_asset_day": 1.0, "precision": 0.8}
SLOWER = {**FAST, "shadow_s": 3, "canary_s": 3}


def start(domain: PdmApplication, candidate: tuple[str, str], **policy: Any) -> Any:
    rollout_id = uuid4()
    domain.start_rollout(rollout_id, *candidate, *BASELINE, {**SLOWER, **policy}, datetime.now(UTC),
                         serving=SERVING, actor="test", correlation_id="test")
    return rollout_id


async def kill_at_each_step(domain: PdmApplication, saga: SagaProcess, rollout_id: Any,
                            states: list[str]) -> list[str]:
    """SIGKILL as soon as the rollout reaches each state, then restart; returns where it died."""
    killed = []
    saga.start()
    await asyncio.sleep(0.5)
    saga.kill()  # before or during its first tick
    killed.append("started")
    for state in states:
        saga.start()
        await wait_for(domain, rollout_id, lambda r, s=state: r.state == s)
        saga.kill()
        killed.append(state)
    saga.start()
    return killed


@pytest.mark.parametrize(("rates", "policy", "states", "outcome", "served"), [
    ({}, {}, ["shadowing", "canary", "promoted"], "promoted", "pca-k"),
    # a canary on an asset that never reports gets no evidence: it times out, canary and shadow undone
    ({}, {"canary_assets": ["pump-99"], "canary_deadline_s": 6},
     ["shadowing", "canary", "timed_out"], "timed_out", BASELINE[0]),
], ids=["promoted", "timed_out"])
async def test_a_saga_killed_at_each_step_in_turn_ends_in_one_consistent_state(
    domain: PdmApplication, saga: SagaProcess, scorer_factory: Any, event_store: Settings,
    rates: dict[str, float], policy: dict[str, Any], states: list[str], outcome: str, served: str,
) -> None:
    candidate = record_candidate(domain, "pca-k", **GOOD_BACKTEST)
    scorer = scorer_factory(rates)
    rollout_id = start(domain, candidate, **policy)

    killed = await kill_at_each_step(domain, saga, rollout_id, states)
    await until(lambda: saga_finished(event_store, rollout_id), 45, "settled after the last restart")

    rollout = domain.get_rollout(rollout_id)
    assert killed == ["started", *states]
    assert rollout.state == outcome and rollout.pending_compensations == []
    await until(lambda: {scorer.serving(a) for a in ASSETS} == {served}, 10, f"every asset on {served}")


async def test_a_deadline_stored_before_a_restart_times_the_step_out_after_it(
    domain: PdmApplication, event_store: Settings,
) -> None:
    now = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    candidate = ("pca-never-recorded", "c" * 64)  # no ModelVersion: validation can only wait
    rollout_id = uuid4()
    domain.start_rollout(rollout_id, *candidate, *BASELINE, FAST, now, serving=SERVING, actor="test",
                         correlation_id="t")
    first = Saga(event_store, clock=lambda: now, app=domain)
    await first.start()
    await first.tick()
    stored = SagaStore(first.conn).deadlines(rollout_id)
    await first.close()  # the process is gone; only PostgreSQL remembers

    later = now + timedelta(seconds=FAST["validate_deadline_s"])
    second = Saga(event_store, clock=lambda: later, app=domain)
    await second.start()
    due = SagaStore(second.conn).due(later)
    await second.tick()
    fired = SagaStore(second.conn).deadlines(rollout_id)
    await second.close()

    assert [(d.state, d.due_at) for d in stored] == [("started", later)]
    assert [d.rollout_id for d in due] == [rollout_id]
    assert domain.get_rollout(rollout_id).state == "timed_out"
    assert fired[0].outcome == "timed_out" and fired[0].fired_at == later
