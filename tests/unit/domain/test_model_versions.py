"""ModelVersion: one artifact hash, one model version, with its lineage and verdicts."""

from __future__ import annotations

from typing import Any

import pytest

from pdm.domain.application import PdmApplication
from pdm.domain.errors import (
    ModelVersionConflictError,
    ModelVersionNotFoundError,
    ModelVersionStateError,
)
from pdm.domain.model_versions import Lineage, ModelVersion, ModelVersionState
from tests.unit.domain.conftest import AUDIT, T0, Who, minutes

pytestmark = pytest.mark.unit

TRAINER: Who = {"actor": "service:trainer", "correlation_id": "retrain-2026-11-21"}
LINEAGE = Lineage(T0 - minutes(60 * 24), T0, ("pump-7", "pump-8"), T0, 42, "git:abc123")


def trained(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "artifact_hash": "sha256:feed",
        "algorithm": "isolation_forest",
        "parameters": {"n_estimators": 200},
        "training_from": T0 - minutes(60 * 24),
        "training_to": T0,
        "feature_set_version": "fs-3",
        "metrics": {"auc": 0.91},
        "lineage": LINEAGE,
    }
    return {**fields, **overrides}


def test_a_trained_model_keeps_its_lineage(app: PdmApplication) -> None:
    app.record_model_trained(**trained(), **TRAINER)

    model = app.get_model_version("sha256:feed")

    assert model.record.lineage == LINEAGE
    assert (model.state, model.id) == (
        ModelVersionState.TRAINED,
        ModelVersion.create_id("sha256:feed"),
    )


def test_recording_the_same_training_run_twice_adds_nothing(app: PdmApplication) -> None:
    first = app.record_model_trained(**trained(), **TRAINER)

    again = app.record_model_trained(**trained(), **TRAINER)

    assert first == again
    assert app.get_model_version("sha256:feed").version == 1


def test_a_different_run_under_a_known_hash_is_refused(app: PdmApplication) -> None:
    app.record_model_trained(**trained(), **TRAINER)

    with pytest.raises(ModelVersionConflictError):
        app.record_model_trained(**trained(metrics={"auc": 0.5}), **TRAINER)


def test_a_validated_model_cannot_be_rejected(app: PdmApplication) -> None:
    app.record_model_trained(**trained(), **TRAINER)
    app.validate_model_version("sha256:feed", {"backtest_f1": 0.8}, **AUDIT)

    with pytest.raises(ModelVersionStateError) as refused:
        app.reject_model_version("sha256:feed", {}, "too late", **AUDIT)

    assert refused.value.state == ModelVersionState.VALIDATED


def test_a_validated_model_can_be_retired(app: PdmApplication) -> None:
    app.record_model_trained(**trained(), **TRAINER)
    app.validate_model_version("sha256:feed", {"backtest_f1": 0.8}, **AUDIT)

    app.retire_model_version("sha256:feed", "superseded", **AUDIT)

    model = app.get_model_version("sha256:feed")
    assert (model.state, model.verdict_reason) == (ModelVersionState.RETIRED, "superseded")


def test_a_rejected_model_keeps_its_backtest_and_reason(app: PdmApplication) -> None:
    app.record_model_trained(**trained(), **TRAINER)

    app.reject_model_version("sha256:feed", {"backtest_f1": 0.2}, "misses faults", **AUDIT)

    model = app.get_model_version("sha256:feed")
    assert (model.backtest_metrics, model.verdict_reason) == ({"backtest_f1": 0.2}, "misses faults")


def test_an_unknown_artifact_is_not_found(app: PdmApplication) -> None:
    unknown = "sha256:none"

    with pytest.raises(ModelVersionNotFoundError):
        app.validate_model_version(unknown, {}, **AUDIT)
