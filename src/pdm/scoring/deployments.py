"""Which model version serves which asset, and which candidates shadow it.

The latest deployment per key, resolved most specific first. A `step="shadow"` deployment
never serves: its candidate only scores beside the serving model (docs/rollout.md, "the
worker contract for shadow").
"""

from __future__ import annotations

from dataclasses import dataclass

from pdm.contracts import DeploymentV1
from pdm.scoring.model import DEFAULT_MODEL, ScoringModel

WITHDRAWN = frozenset({"rolled_back"})
SHADOW = "shadow"


@dataclass(frozen=True)
class _Entry:
    order: int
    deployment: DeploymentV1
    model: ScoringModel


class DeploymentBook:
    """The compacted topic's state: one deployment per key, a tombstone removes it.

    A deployment naming the asset beats a `"*"` one; between equals the later one wins, so
    every worker that read the same topic resolves every asset the same way. Shadow
    deployments are kept apart and are never a candidate for `model_for`. A repeated
    identical deployment changes nothing (not even which of two equals is the later one).
    """

    def __init__(self, default: ScoringModel = DEFAULT_MODEL) -> None:
        self.default = default
        self._entries: dict[str, _Entry] = {}
        self._shadows: dict[str, _Entry] = {}
        self._applied = 0
        self._resolved: dict[str, ScoringModel] = {}
        self._shadowed: dict[str, tuple[ScoringModel, ...]] = {}

    def is_current(self, key: str, deployment: DeploymentV1) -> bool:
        """The key already holds this very deployment: applying it again would be a no-op."""
        entry = self._entries.get(key) or self._shadows.get(key)
        return entry is not None and entry.deployment == deployment

    def apply(self, key: str, deployment: DeploymentV1 | None, model: ScoringModel | None) -> None:
        if deployment is not None and self.is_current(key, deployment):
            return
        self._resolved.clear()
        self._shadowed.clear()
        self._entries.pop(key, None)
        self._shadows.pop(key, None)
        if deployment is None or model is None or deployment.step in WITHDRAWN:
            return
        self._applied += 1
        target = self._shadows if deployment.step == SHADOW else self._entries
        target[key] = _Entry(self._applied, deployment, model)

    def model_for(self, asset_id: str) -> ScoringModel:
        found = self._resolved.get(asset_id)
        if found is None:
            found = self._resolved[asset_id] = self._resolve(asset_id)
        return found

    def shadows_for(self, asset_id: str) -> tuple[ScoringModel, ...]:
        """Candidates to score the asset with beside its serving model, oldest deployment first.

        One per version; a candidate that already serves the asset (a canary asset while the
        shadow stays live) is not scored twice.
        """
        found = self._shadowed.get(asset_id)
        if found is None:
            serving = self.model_for(asset_id).version
            models: dict[str, ScoringModel] = {}
            for entry in sorted(self._shadows.values(), key=lambda e: e.order):
                version = entry.model.version
                if entry.deployment.serves(asset_id) and version != serving:
                    models.setdefault(version, entry.model)
            found = self._shadowed[asset_id] = tuple(models.values())
        return found

    def _resolve(self, asset_id: str) -> ScoringModel:
        best: tuple[int, int] | None = None
        model = self.default
        for entry in self._entries.values():
            if not entry.deployment.serves(asset_id):
                continue
            rank = (0 if entry.deployment.assets == "*" else 1, entry.order)
            if best is None or rank > best:
                best, model = rank, entry.model
        return model

    def versions(self) -> dict[str, str]:
        """Model version per key, shadows included (their step tells them apart on the topic)."""
        entries = {**self._entries, **self._shadows}
        return {key: e.deployment.model_version for key, e in sorted(entries.items())}
