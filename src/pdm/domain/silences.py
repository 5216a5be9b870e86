"""Silences and maintenance windows per asset or site, and the SilenceSchedule that keeps them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from pdm.domain.assets import MaintenanceRecord
from pdm.domain.audit import Audit
from pdm.domain.errors import InvalidSilenceError


class SilenceScope(StrEnum):
    ASSET = "asset"
    SITE = "site"


@dataclass(frozen=True)
class Silence:
    """Mutes notifications for every asset in scope during [starts_at, ends_at)."""

    silence_id: str
    scope: SilenceScope
    target: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str

    def covers(self, asset_id: str, site: str, t: datetime) -> bool:
        in_scope = self.target == (asset_id if self.scope == SilenceScope.ASSET else site)
        return in_scope and self.starts_at <= t < self.ends_at


def silence_id_for(
    scope: SilenceScope, target: str, starts_at: datetime, ends_at: datetime, reason: str
) -> str:
    """Deterministic default id, so a retried create does not add a second silence."""
    name = f"/pdm/silences/{scope}/{target}/{starts_at.isoformat()}/{ends_at.isoformat()}/{reason}"
    return str(uuid5(NAMESPACE_URL, name))


def matching_silence(asset_id: str, site: str, t: datetime, silences: Iterable[Silence]) -> Silence | None:
    """The covering silence that lasts longest: suppression runs until it ends."""
    covering = [s for s in silences if s.covers(asset_id, site, t)]
    return max(covering, key=lambda s: s.ends_at, default=None)


def is_silenced(asset_id: str, site: str, t: datetime, silences: Iterable[Silence]) -> bool:
    return matching_silence(asset_id, site, t, silences) is not None


def maintenance_silences(asset_id: str, records: Iterable[MaintenanceRecord]) -> list[Silence]:
    """A maintenance window is a silence: anomalies while a machine is open are expected."""
    return [
        Silence(
            silence_id=f"maintenance/{r.work_order_id}",
            scope=SilenceScope.ASSET,
            target=asset_id,
            starts_at=r.started_at,
            ends_at=r.ended_at,
            reason=f"maintenance {r.work_order_id}",
            created_by="maintenance",
        )
        for r in records
    ]


class SilenceSchedule(Aggregate):
    """All silences of one asset or one site, so one read finds those that apply."""

    class Event(Aggregate.Event):
        actor: str
        correlation_id: str

    class Created(Event, Aggregate.Created):
        scope: str
        target: str

    class SilenceAdded(Event):
        silence_id: str
        starts_at: datetime
        ends_at: datetime
        reason: str
        created_by: str

    class SilenceLifted(Event):
        silence_id: str
        by: str

    @staticmethod
    def create_id(scope: str, target: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/pdm/silence-schedules/{scope}/{target}")

    def __init__(self, scope: str, target: str, actor: str, correlation_id: str) -> None:
        self.scope, self.target = SilenceScope(scope), target
        self.silences: dict[str, Silence] = {}

    @classmethod
    def start(cls, scope: SilenceScope, target: str, audit: Audit) -> SilenceSchedule:
        return cls(scope.value, target, **audit.fields)

    def add(self, silence: Silence, audit: Audit) -> bool:
        """Idempotent on the silence id; a different silence under a known id is refused."""
        if silence.ends_at <= silence.starts_at:
            raise InvalidSilenceError("a silence must end after it starts")
        if (silence.scope, silence.target) != (self.scope, self.target):
            raise InvalidSilenceError("silence belongs to another schedule")
        known = self.silences.get(silence.silence_id)
        if known is not None:
            if known != silence:
                raise InvalidSilenceError(f"silence {silence.silence_id} exists differently")
            return False
        s = silence
        self._silence_added(s.silence_id, s.starts_at, s.ends_at, s.reason, s.created_by, **audit.fields)
        return True

    def lift(self, silence_id: str, by: str, audit: Audit) -> bool:
        if silence_id not in self.silences:
            return False
        self._silence_lifted(silence_id, by, **audit.fields)
        return True

    @event(SilenceAdded)
    def _silence_added(
        self,
        silence_id: str,
        starts_at: datetime,
        ends_at: datetime,
        reason: str,
        created_by: str,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.silences[silence_id] = Silence(
            silence_id, self.scope, self.target, starts_at, ends_at, reason, created_by
        )

    @event(SilenceLifted)
    def _silence_lifted(self, silence_id: str, by: str, actor: str, correlation_id: str) -> None:
        del self.silences[silence_id]
