"""Model-version commands of the application: record training runs and their verdicts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pdm.domain.audit import Audit
from pdm.domain.errors import ModelVersionNotFoundError
from pdm.domain.model_versions import Lineage, ModelVersion, TrainingRecord
from pdm.domain.store import StoreApplication


class ModelVersionService(StoreApplication):
    def record_model_trained(
        self,
        artifact_hash: str,
        algorithm: str,
        parameters: Mapping[str, Any],
        training_from: datetime,
        training_to: datetime,
        feature_set_version: str,
        metrics: Mapping[str, float],
        lineage: Lineage,
        *,
        actor: str,
        correlation_id: str,
    ) -> int:
        """Idempotent on the artifact hash: a re-run job that reports the same run adds nothing."""
        args = (training_from, training_to, feature_set_version, dict(metrics), lineage)
        record = TrainingRecord(artifact_hash, algorithm, dict(parameters), *args)
        known: ModelVersion | None = self.find(ModelVersion.create_id(artifact_hash))
        if known is not None:
            known.check_same_training(record)
            return self.position()
        model = ModelVersion.train(record, Audit(actor, correlation_id))
        return self.commit(model)

    def validate_model_version(
        self,
        artifact_hash: str,
        metrics: Mapping[str, float],
        *,
        actor: str,
        correlation_id: str,
    ) -> int:
        model = self.get_model_version(artifact_hash)
        model.validate(metrics, Audit(actor, correlation_id))
        return self.commit(model)

    def reject_model_version(
        self,
        artifact_hash: str,
        metrics: Mapping[str, float],
        reason: str,
        *,
        actor: str,
        correlation_id: str,
    ) -> int:
        model = self.get_model_version(artifact_hash)
        model.reject(metrics, reason, Audit(actor, correlation_id))
        return self.commit(model)

    def retire_model_version(
        self, artifact_hash: str, reason: str, *, actor: str, correlation_id: str
    ) -> int:
        model = self.get_model_version(artifact_hash)
        model.retire(reason, Audit(actor, correlation_id))
        return self.commit(model)

    def get_model_version(self, artifact_hash: str) -> ModelVersion:
        model: ModelVersion = self.load(
            ModelVersion.create_id(artifact_hash), ModelVersionNotFoundError, artifact_hash
        )
        return model
