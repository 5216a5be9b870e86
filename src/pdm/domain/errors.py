"""Domain errors: each names the condition that refused a command."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID


class DomainError(Exception):
    """Base of every refusal the domain makes; the API maps each to a stable code."""

    code = "domain_error"


class NotFoundError(DomainError):
    """An aggregate the command names has never been recorded."""

    code = "not_found"

    def __init__(self, aggregate_id: UUID, name: str = "") -> None:
        super().__init__(f"{type(self).__name__}: {name or aggregate_id}")
        self.aggregate_id = aggregate_id
        self.name = name


class AssetNotFoundError(NotFoundError):
    code = "asset_not_found"


class AlertNotFoundError(NotFoundError):
    code = "alert_not_found"


class ModelVersionNotFoundError(NotFoundError):
    code = "model_version_not_found"


class ConcurrentChangeError(DomainError):
    """Someone else changed the aggregate first; `changes` says what, so a UI can re-ask."""

    code = "concurrent_change"

    def __init__(
        self,
        aggregate_id: UUID,
        expected_version: int | None,
        actual_version: int,
        changes: Sequence[str] = (),
    ) -> None:
        super().__init__(
            f"aggregate {aggregate_id} is at version {actual_version}, "
            f"expected {expected_version}; changed by: {', '.join(changes) or 'unknown'}"
        )
        self.aggregate_id = aggregate_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        self.changes = tuple(changes)


class AlertStateError(DomainError):
    """A transition the alert's current state does not allow; carries that state."""

    code = "alert_state"

    def __init__(self, alert_id: UUID, state: str, action: str) -> None:
        super().__init__(f"cannot {action} alert {alert_id}: it is {state}")
        self.alert_id = alert_id
        self.state = state
        self.action = action


class AlertNotOpenError(AlertStateError):
    code = "alert_not_open"


class AlertAlreadyResolvedError(AlertStateError):
    code = "alert_already_resolved"


class AssetDecommissionedError(DomainError):
    code = "asset_decommissioned"

    def __init__(self, asset_id: str) -> None:
        super().__init__(f"asset {asset_id} is decommissioned")
        self.asset_id = asset_id


class InvalidChannelError(DomainError):
    code = "invalid_channel"


class InvalidMaintenanceWindowError(DomainError):
    code = "invalid_maintenance_window"


class WorkOrderConflictError(DomainError):
    """The same work order id was recorded before with different content."""

    code = "work_order_conflict"


class InvalidSilenceError(DomainError):
    code = "invalid_silence"


class SeverityNotHigherError(DomainError):
    """Escalation only ever raises severity; lowering it would hide a worse past."""

    code = "severity_not_higher"


class ModelVersionStateError(DomainError):
    """A model-version transition its lifecycle does not allow."""

    code = "model_version_state"

    def __init__(self, artifact_hash: str, state: str, action: str) -> None:
        super().__init__(f"cannot {action} model version {artifact_hash}: it is {state}")
        self.artifact_hash = artifact_hash
        self.state = state
        self.action = action


class ModelVersionConflictError(DomainError):
    """The artifact hash was recorded before with a different training record."""

    code = "model_version_conflict"


class AssetAlreadyRegisteredError(DomainError):
    """A classified asset cannot be registered again with a different description."""

    code = "asset_already_registered"

    def __init__(self, asset_id: str) -> None:
        super().__init__(f"asset {asset_id} is already registered differently")
        self.asset_id = asset_id


class InvalidThresholdError(DomainError):
    code = "invalid_threshold"


class InvalidAmendmentError(DomainError):
    code = "invalid_amendment"


class InvalidTrainingWindowError(DomainError):
    code = "invalid_training_window"


class RolloutNotFoundError(NotFoundError):
    code = "rollout_not_found"


class RolloutStateError(DomainError):
    """A rollout transition its current state does not allow (abort a promoted rollout)."""

    code = "rollout_state"

    def __init__(self, rollout_id: UUID, state: str, action: str) -> None:
        super().__init__(f"cannot {action} rollout {rollout_id}: it is {state}")
        self.rollout_id = rollout_id
        self.state = state
        self.action = action


class RolloutConflictError(DomainError):
    """The rollout id was started before with different candidate, baseline or policy."""

    code = "rollout_conflict"


class RolloutActiveError(DomainError):
    """Another rollout holds the scope the new one needs; one rollout at a time per scope."""

    code = "rollout_active"

    def __init__(self, active_rollout_id: UUID, scope: str) -> None:
        super().__init__(f"rollout {active_rollout_id} is still active on assets {scope!r}: "
                         "abort it or wait until it finishes")
        self.active_rollout_id = active_rollout_id
        self.scope = scope


class RolloutSettlingError(RolloutActiveError):
    """The scope's last rollout is promoted, but its candidate does not serve the fleet (`"*"`) yet:
    the saga records `Promoted` before it publishes the new `"*"`. A start checked in between would
    be judged against the model that is being replaced; retrying a moment later succeeds."""

    code = "rollout_settling"

    def __init__(self, active_rollout_id: UUID, scope: str, promoted: tuple[str, str]) -> None:
        DomainError.__init__(self, f"rollout {active_rollout_id} promoted {promoted[0]}@{promoted[1]}, which "
                             "does not serve the fleet (\"*\") yet: retry once the saga has published it")
        self.active_rollout_id = active_rollout_id
        self.scope = scope
        self.promoted = promoted


class BaselineNotServingError(DomainError):
    """The baseline a rollout names is not the model serving the fleet (`"*"`) as it starts."""

    code = "baseline_not_serving"

    def __init__(self, serving: tuple[str, str | None], baseline: tuple[str, str]) -> None:
        served = f"{serving[0]}@{serving[1]} is" if serving[1] else \
            f"the built-in {serving[0]} is (name it with any hash)"
        super().__init__(f"baseline {baseline[0]}@{baseline[1]} is not serving the fleet (\"*\"): {served}")
        self.serving = serving
        self.baseline = baseline


class InvalidRolloutPolicyError(DomainError):
    code = "invalid_rollout_policy"
