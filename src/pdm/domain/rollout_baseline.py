"""The model serving the fleet when a rollout starts: the only baseline a rollout may name."""

from __future__ import annotations

from dataclasses import dataclass

from pdm.domain.errors import BaselineNotServingError


def _digest(artifact_hash: str) -> str:
    return artifact_hash.removeprefix("sha256:")


@dataclass(frozen=True)
class ServingModel:
    """What serves every asset no deployment names: the `"*"` deployment, or the built-in model.

    `artifact_hash` is None for the built-in model: it has no artifact, and the stream worker
    serves it by its version alone, whatever hash a deployment names with it.
    """

    model_version: str
    artifact_hash: str | None = None

    def is_model(self, version: str, artifact_hash: str) -> bool:
        if version != self.model_version:
            return False
        return self.artifact_hash is None or _digest(artifact_hash) == _digest(self.artifact_hash)

    def require_baseline(self, version: str, artifact_hash: str) -> None:
        """The saga judges the candidate against the baseline's live scores, and a rollback hands
        the canary's assets back to `"*"`: both are only right when the baseline serves `"*"`."""
        if not self.is_model(version, artifact_hash):
            raise BaselineNotServingError((self.model_version, self.artifact_hash), (version, artifact_hash))
