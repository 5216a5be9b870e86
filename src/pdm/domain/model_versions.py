"""The ModelVersion aggregate: one immutable trained artifact and its verdicts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from pdm.domain.audit import Audit
from pdm.domain.errors import (
    InvalidTrainingWindowError,
    ModelVersionConflictError,
    ModelVersionStateError,
)


class ModelVersionState(StrEnum):
    TRAINED = "trained"
    VALIDATED = "validated"
    REJECTED = "rejected"
    RETIRED = "retired"


@dataclass(frozen=True)
class Lineage:
    """Enough to retrain the same artifact: which data, up to where, with which code."""

    data_from: datetime
    data_to: datetime
    assets: tuple[str, ...]
    archive_watermark: datetime
    seed: int
    code_version: str

    def as_data(self) -> dict[str, Any]:
        return {**asdict(self), "assets": list(self.assets)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Lineage:
        return cls(**{**data, "assets": tuple(data["assets"])})


@dataclass(frozen=True)
class TrainingRecord:
    """What a training run reports; the artifact hash makes it one model version."""

    artifact_hash: str
    algorithm: str
    parameters: Mapping[str, Any]
    training_from: datetime
    training_to: datetime
    feature_set_version: str
    metrics: Mapping[str, float]
    lineage: Lineage


class ModelVersion(Aggregate):
    """A trained model; scores and alerts name it so any past alert can be reproduced."""

    class Event(Aggregate.Event):
        actor: str
        correlation_id: str

    class Trained(Event, Aggregate.Created):
        artifact_hash: str
        algorithm: str
        parameters: dict[str, Any]
        training_from: datetime
        training_to: datetime
        feature_set_version: str
        metrics: dict[str, float]
        lineage: dict[str, Any]

    class Validated(Event):
        metrics: dict[str, float]

    class Rejected(Event):
        metrics: dict[str, float]
        reason: str

    class Retired(Event):
        reason: str

    @staticmethod
    def create_id(artifact_hash: str) -> UUID:
        """Deterministic: the same artifact recorded twice is one model version."""
        return uuid5(NAMESPACE_URL, f"/pdm/model-versions/{artifact_hash}")

    def __init__(
        self,
        artifact_hash: str,
        algorithm: str,
        parameters: dict[str, Any],
        training_from: datetime,
        training_to: datetime,
        feature_set_version: str,
        metrics: dict[str, float],
        lineage: dict[str, Any],
        actor: str,
        correlation_id: str,
    ) -> None:
        self.record = TrainingRecord(
            artifact_hash,
            algorithm,
            parameters,
            training_from,
            training_to,
            feature_set_version,
            metrics,
            Lineage.from_data(lineage),
        )
        self.state = ModelVersionState.TRAINED
        self.backtest_metrics: dict[str, float] = {}
        self.verdict_reason = ""

    @classmethod
    def train(cls, record: TrainingRecord, audit: Audit) -> ModelVersion:
        if record.training_to <= record.training_from:
            raise InvalidTrainingWindowError("training window must end after it starts")
        return cls(
            record.artifact_hash,
            record.algorithm,
            dict(record.parameters),
            record.training_from,
            record.training_to,
            record.feature_set_version,
            dict(record.metrics),
            record.lineage.as_data(),
            **audit.fields,
        )

    @property
    def artifact_hash(self) -> str:
        return self.record.artifact_hash

    def check_same_training(self, record: TrainingRecord) -> None:
        """Recording a training run again is a no-op only if it says the same thing."""
        if self.record != record:
            raise ModelVersionConflictError(f"{record.artifact_hash} was trained differently")

    def validate(self, metrics: Mapping[str, float], audit: Audit) -> None:
        self._require(ModelVersionState.TRAINED, "validate")
        self._validated(dict(metrics), **audit.fields)

    def reject(self, metrics: Mapping[str, float], reason: str, audit: Audit) -> None:
        self._require(ModelVersionState.TRAINED, "reject")
        self._rejected(dict(metrics), reason, **audit.fields)

    def retire(self, reason: str, audit: Audit) -> bool:
        if self.state == ModelVersionState.RETIRED:
            return False
        self._retired(reason, **audit.fields)
        return True

    def _require(self, state: ModelVersionState, action: str) -> None:
        if self.state != state:
            raise ModelVersionStateError(self.artifact_hash, self.state, action)

    @event(Validated)
    def _validated(self, metrics: dict[str, float], actor: str, correlation_id: str) -> None:
        self.state, self.backtest_metrics = ModelVersionState.VALIDATED, metrics

    @event(Rejected)
    def _rejected(self, metrics: dict[str, float], reason: str, actor: str, correlation_id: str) -> None:
        self.state, self.backtest_metrics = ModelVersionState.REJECTED, metrics
        self.verdict_reason = reason

    @event(Retired)
    def _retired(self, reason: str, actor: str, correlation_id: str) -> None:
        self.state, self.verdict_reason = ModelVersionState.RETIRED, reason
