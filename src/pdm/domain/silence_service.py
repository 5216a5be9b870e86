"""Silence commands of the application: create and lift silences per asset or site."""

from __future__ import annotations

from datetime import datetime

from pdm.domain.audit import Audit
from pdm.domain.silences import Silence, SilenceSchedule, SilenceScope, silence_id_for
from pdm.domain.store import StoreApplication


class SilenceService(StoreApplication):
    def create_silence(
        self,
        scope: SilenceScope,
        target: str,
        starts_at: datetime,
        ends_at: datetime,
        reason: str,
        by: str,
        *,
        actor: str,
        correlation_id: str,
        silence_id: str | None = None,
    ) -> int:
        """Without a silence_id the id is derived from the content, so a retry adds nothing."""
        sid = silence_id or silence_id_for(scope, target, starts_at, ends_at, reason)
        schedule = self.find(SilenceSchedule.create_id(scope.value, target))
        if schedule is None:
            schedule = SilenceSchedule.start(scope, target, Audit(actor, correlation_id))
        silence = Silence(sid, scope, target, starts_at, ends_at, reason, by)
        schedule.add(silence, Audit(actor, correlation_id))
        return self.commit(schedule)

    def lift_silence(
        self,
        scope: SilenceScope,
        target: str,
        silence_id: str,
        by: str,
        *,
        actor: str,
        correlation_id: str,
    ) -> int:
        schedule = self.find(SilenceSchedule.create_id(scope.value, target))
        if schedule is None:
            return self.position()
        schedule.lift(silence_id, by, Audit(actor, correlation_id))
        return self.commit(schedule)

    def silences_for(self, asset_id: str, site: str) -> list[Silence]:
        """Both the asset's own silences and its site's: either one mutes the asset."""
        keys = [(SilenceScope.ASSET, asset_id), (SilenceScope.SITE, site)]
        schedules = [self.find(SilenceSchedule.create_id(s.value, t)) for s, t in keys]
        return [s for sch in schedules if sch is not None for s in sch.silences.values()]
