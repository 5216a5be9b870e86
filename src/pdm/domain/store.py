"""StoreApplication: loading and saving aggregates under the shared concurrency rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from pdm.domain.errors import ConcurrentChangeError, NotFoundError


class StoreApplication(Application[UUID]):
    """Every command loads, decides on the aggregate, then commits once."""

    def position(self) -> int:
        """Where the log is now: what a no-op command returns, so waiting on it is safe."""
        return self.recorder.max_notification_id() or 0

    def load(
        self,
        aggregate_id: UUID,
        not_found: type[NotFoundError],
        name: str = "",
        expected_version: int | None = None,
    ) -> Any:
        try:
            aggregate: Any = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise not_found(aggregate_id, name) from None
        if expected_version is not None and aggregate.version != expected_version:
            raise self.conflict(aggregate_id, expected_version, aggregate.version)
        return aggregate

    def find(self, aggregate_id: UUID) -> Any | None:
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    def commit(self, *aggregates: Aggregate) -> int:
        """Saves all pending events atomically; a lost race becomes ConcurrentChangeError."""
        pending = list({a.id: a for a in aggregates if a.pending_events}.values())
        if not pending:
            return self.position()
        bases = {a.id: a.pending_events[0].originator_version - 1 for a in pending}
        try:
            recordings = self.save(*pending)
        except IntegrityError:
            raise self._first_conflict(bases) from None
        return recordings[-1].notification.id

    def conflict(
        self, aggregate_id: UUID, seen_version: int, actual: int | None = None
    ) -> ConcurrentChangeError:
        """Names each event recorded since the version the caller saw, and who recorded it."""
        newer = list(self.events.get(aggregate_id, gt=seen_version))
        changes = [f"{type(e).__name__} by {getattr(e, 'actor', '?')}" for e in newer]
        if actual is None:
            actual = newer[-1].originator_version if newer else seen_version
        return ConcurrentChangeError(aggregate_id, seen_version, actual, changes)

    def _first_conflict(self, bases: Mapping[UUID, int]) -> ConcurrentChangeError:
        """Of the aggregates saved together, the one someone else moved first."""
        errors = [self.conflict(aggregate_id, base) for aggregate_id, base in bases.items()]
        return next((e for e in errors if e.changes), errors[0])
