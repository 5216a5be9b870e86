"""Which model version serves which asset: the latest deployments, resolved most specific first."""

from __future__ import annotations

from dataclasses import dataclass

from pdm.contracts import DeploymentV1
from pdm.scoring.model import DEFAULT_MODEL, ScoringModel

WITHDRAWN = frozenset({"rolled_back"})


@dataclass(frozen=True)
class _Entry:
    order: int
    deployment: DeploymentV1
    model: ScoringModel


class DeploymentBook:
    """The compacted topic's state: one deployment per key, a tombstone removes it.

    A deployment naming the asset beats a `"*"` one; between equals the later one wins, so
    every worker that read the same topic resolves every asset the same way.
    """

    def __init__(self, default: ScoringModel = DEFAULT_MODEL) -> None:
        self.default = default
        self._entries: dict[str, _Entry] = {}
        self._applied = 0
        self._resolved: dict[str, ScoringModel] = {}

    def apply(self, key: str, deployment: DeploymentV1 | None, model: ScoringModel | None) -> None:
        self._resolved.clear()
        if deployment is None or model is None or deployment.step in WITHDRAWN:
            self._entries.pop(key, None)
            return
        self._applied += 1
        self._entries[key] = _Entry(self._applied, deployment, model)

    def model_for(self, asset_id: str) -> ScoringModel:
        found = self._resolved.get(asset_id)
        if found is None:
            found = self._resolved[asset_id] = self._resolve(asset_id)
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
        return {key: e.deployment.model_version for key, e in sorted(self._entries.items())}
