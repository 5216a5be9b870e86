"""Rollout commands on the in-memory application: idempotent start, refusals, abort."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import pytest

from pdm.domain import commands as c
from pdm.domain.application import PdmApplication
from pdm.domain.errors import InvalidRolloutPolicyError, RolloutConflictError, RolloutNotFoundError
from pdm.domain.rollout_steps import Record
from pdm.domain.rollouts import Rollout
from tests.unit.rollout.conftest import BASELINE, CANDIDATE, T0

pytestmark = pytest.mark.unit
WHO = {"actor": "api-key:ops", "correlation_id": "req-1"}


@pytest.fixture
def app() -> Iterator[PdmApplication]:
    application = PdmApplication(env={"PDM_PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield application
    application.close()


def start(**overrides: object) -> c.StartRollout:
    fields: dict[str, object] = {"rollout_id": Rollout.id_for(CANDIDATE[1], "req-1"),
                                 "candidate_version": CANDIDATE[0], "candidate_hash": CANDIDATE[1],
                                 "baseline_version": BASELINE[0], "baseline_hash": BASELINE[1],
                                 "policy": {"shadow_s": 5}, "at": T0, **WHO}
    return c.StartRollout(**{**fields, **overrides})  # type: ignore[arg-type]


def test_starting_the_same_rollout_twice_records_one_start(app: PdmApplication) -> None:
    first = app.handle(start())

    again = app.handle(start())

    assert again == first
    assert app.get_rollout(start().rollout_id).policy.shadow_s == 5


def test_the_same_id_with_another_candidate_or_the_baseline_as_candidate_is_refused(app: PdmApplication) -> None:
    app.handle(start())

    with pytest.raises(RolloutConflictError):
        app.handle(start(candidate_hash="c" * 64))
    with pytest.raises(RolloutConflictError):
        app.handle(start(rollout_id=uuid4(), candidate_hash=BASELINE[1]))
    with pytest.raises(InvalidRolloutPolicyError):
        app.handle(start(rollout_id=uuid4(), policy={"nope": 1}))


def test_an_abort_is_recorded_with_who_and_why(app: PdmApplication) -> None:
    app.handle(start())

    app.handle(c.AbortRollout(rollout_id=start().rollout_id, reason="bad feeling", at=T0, **WHO))

    rollout = app.get_rollout(start().rollout_id)
    events = list(app.events.get(rollout.id))
    assert rollout.state == "aborted" and events[-1].actor == "api-key:ops"


def test_the_saga_records_its_decisions_through_one_method(app: PdmApplication) -> None:
    app.handle(start())
    rid = start().rollout_id

    app.record_rollout_step(Record(rid, "started", "time_out"), T0.replace(hour=11), actor="saga",
                            correlation_id="deadline")

    assert app.get_rollout(rid).state == "timed_out"


def test_an_unknown_rollout_is_not_found(app: PdmApplication) -> None:
    with pytest.raises(RolloutNotFoundError):
        app.get_rollout(uuid4())
