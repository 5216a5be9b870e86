"""The RolloutScope aggregate: which rollout holds a scope of assets, so only one runs at a time."""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from pdm.domain.audit import Audit
from pdm.domain.errors import RolloutActiveError

FLEET_SCOPE = "*"
"""Every rollout's shadow covers every asset, so today every rollout claims the whole fleet."""


class RolloutScope(Aggregate):
    """Claimed in the same commit as the rollout it names: two starts racing for one scope meet
    in an optimistic-concurrency conflict, never in two live rollouts. A claim is released by its
    rollout finishing, so nothing has to be written when a rollout ends."""

    class Event(Aggregate.Event):
        actor: str
        correlation_id: str
        at: datetime

    class Opened(Event, Aggregate.Created):
        scope: str

    class Claimed(Event):
        rollout_id: UUID

    @staticmethod
    def create_id(scope: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/pdm/rollout-scopes/{scope}")

    def __init__(self, scope: str, actor: str, correlation_id: str, at: datetime) -> None:
        self.scope = scope
        self.holder: UUID | None = None

    def claim(self, rollout_id: UUID, holder_finished: bool, at: datetime, audit: Audit) -> None:
        """`holder_finished` says whether the current holder's rollout is finished."""
        if self.holder is not None and self.holder != rollout_id and not holder_finished:
            raise RolloutActiveError(self.holder, self.scope)
        if self.holder != rollout_id:
            self._claimed(rollout_id, at=at, **audit.fields)

    @event(Claimed)
    def _claimed(self, rollout_id: UUID, at: datetime, actor: str, correlation_id: str) -> None:
        self.holder = rollout_id
