"""Rollout commands on the in-memory application: idempotent start, refusals, abort."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID, uuid4

import pytest

from pdm.domain import commands as c
from pdm.domain.application import PdmApplication
from pdm.domain.errors import (
    BaselineNotServingError,
    InvalidRolloutPolicyError,
    RolloutActiveError,
    RolloutConflictError,
    RolloutNotFoundError,
    RolloutSettlingError,
)
from pdm.domain.rollout_baseline import ServingModel
from pdm.domain.rollout_evidence import Verdict
from pdm.domain.rollout_steps import Record
from pdm.domain.rollouts import Rollout
from tests.unit.rollout.conftest import BASELINE, CANDIDATE, T0, promotion

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
                                 "policy": {"shadow_s": 5}, "at": T0, "serving": ServingModel(*BASELINE),
                                 **WHO}
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


def test_a_second_rollout_while_one_is_active_is_refused_naming_the_active_one(app: PdmApplication) -> None:
    app.handle(start())

    with pytest.raises(RolloutActiveError) as refused:
        app.handle(start(rollout_id=uuid4(), candidate_hash="c" * 64))

    assert refused.value.active_rollout_id == start().rollout_id
    assert refused.value.code == "rollout_active" and str(start().rollout_id) in str(refused.value)


def test_a_rollout_may_start_once_the_previous_one_is_finished(app: PdmApplication) -> None:
    app.handle(start())
    app.abort_rollout(start().rollout_id, "replaced", T0, **WHO)  # nothing was live: nothing to undo
    second = uuid4()

    app.handle(start(rollout_id=second, candidate_hash="c" * 64))

    assert app.get_rollout(second).state == "started"


def test_a_rollout_still_compensating_keeps_its_scope(app: PdmApplication) -> None:
    rid = start().rollout_id
    app.handle(start())
    app.record_rollout_step(Record(rid, "validate", "validate", verdict=Verdict(True, {})), T0, **WHO)
    app.record_rollout_step(Record(rid, "shadow", "start_shadow"), T0, **WHO)
    app.abort_rollout(rid, "stop", T0, **WHO)  # the shadow is still to be withdrawn

    with pytest.raises(RolloutActiveError):
        app.handle(start(rollout_id=uuid4(), candidate_hash="c" * 64))
    app.record_rollout_step(Record(rid, "shadow", "compensate"), T0, **WHO)
    app.handle(start(rollout_id=uuid4(), candidate_hash="c" * 64))


def promote(app: PdmApplication, rid: UUID) -> None:
    """The saga's decisions up to `Promoted`; its `"*"` is published only after."""
    for record in promotion(rid):
        app.record_rollout_step(record, T0, **WHO)


def test_a_start_between_a_promotion_and_its_publication_is_refused_until_the_candidate_serves(
    app: PdmApplication,
) -> None:
    app.handle(start())
    promote(app, start().rollout_id)
    assert app.get_rollout(start().rollout_id).state == "promoted"
    nxt = {"rollout_id": uuid4(), "candidate_version": "pca-3", "candidate_hash": "c" * 64}

    # pdm.deployments.v1 still names the old baseline: it would have passed as the baseline
    with pytest.raises(RolloutSettlingError) as refused:
        app.handle(start(**nxt))
    with pytest.raises(RolloutSettlingError):  # and naming the promoted candidate is refused too
        app.handle(start(**nxt, baseline_version=CANDIDATE[0], baseline_hash=CANDIDATE[1]))
    assert refused.value.code == "rollout_settling" and refused.value.promoted == CANDIDATE
    assert refused.value.active_rollout_id == start().rollout_id
    assert app.find(nxt["rollout_id"]) is None  # type: ignore[arg-type]

    # once the saga has published the candidate as "*", it is the only baseline a start may name
    now_serving = ServingModel(*CANDIDATE)
    with pytest.raises(BaselineNotServingError):
        app.handle(start(**nxt, serving=now_serving))
    app.handle(start(**nxt, baseline_version=CANDIDATE[0], baseline_hash=CANDIDATE[1], serving=now_serving))
    assert app.get_rollout(nxt["rollout_id"]).state == "started"  # type: ignore[arg-type]


def test_a_baseline_that_is_not_serving_is_refused_naming_both_and_claims_nothing(app: PdmApplication) -> None:
    serving = ServingModel("pca-1", "c" * 64)

    with pytest.raises(BaselineNotServingError) as refused:
        app.handle(start(serving=serving))
    with pytest.raises(BaselineNotServingError):
        app.handle(start(serving=ServingModel(BASELINE[0], "c" * 64)))  # the version alone is not enough
    app.handle(start(rollout_id=uuid4(), baseline_version="pca-1", baseline_hash="sha256:" + "c" * 64,
                     serving=serving))

    assert refused.value.code == "baseline_not_serving"
    assert (refused.value.serving, refused.value.baseline) == (("pca-1", "c" * 64), BASELINE)
    assert app.find(start().rollout_id) is None


def test_the_built_in_model_is_named_by_its_version_with_any_hash(app: PdmApplication) -> None:
    built_in = ServingModel("contextual-drift-v1")

    with pytest.raises(BaselineNotServingError) as refused:
        app.handle(start(serving=built_in))
    app.handle(start(baseline_version="contextual-drift-v1", serving=built_in))

    assert "the built-in contextual-drift-v1" in str(refused.value)
    assert app.get_rollout(start().rollout_id).baseline == ("contextual-drift-v1", BASELINE[1])


def test_repeating_a_start_after_the_fleet_moved_on_is_still_a_no_op(app: PdmApplication) -> None:
    first = app.handle(start())

    again = app.handle(start(serving=ServingModel(*CANDIDATE)))  # e.g. the rollout was promoted since

    assert again == first
