"""Durable timers as data: what is due when, decided by pure functions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pdm.domain.alerts import Alert
from pdm.domain.rules import (
    DEFAULT_POLICY,
    AlertPolicy,
    next_escalation_at,
    next_renotify_at,
    unacknowledged_escalations,
)


class TimerKind(StrEnum):
    RENOTIFY = "renotify"
    ESCALATE = "escalate"
    NO_DATA = "no_data"


@dataclass(frozen=True, order=True)
class Timer:
    """A pending decision; `key` names one firing, so firing it twice has one effect."""

    due_at: datetime
    kind: TimerKind
    aggregate_id: UUID
    key: str


def due_timers(timers: Iterable[Timer], now: datetime) -> list[Timer]:
    """Due timers, oldest first, one per key: a store may hold a timer more than once."""
    due: dict[str, Timer] = {}
    for timer in timers:
        if timer.due_at <= now and timer.key not in due:
            due[timer.key] = timer
    return sorted(due.values())


def alert_timers(alert: Alert, policy: AlertPolicy = DEFAULT_POLICY) -> list[Timer]:
    """Derived from the alert's state, so a lost timer table can be rebuilt from events."""
    timers = []
    renotify_at = next_renotify_at(alert, policy)
    if renotify_at is not None:
        key = f"{alert.id}/renotify/{len(alert.notified_at)}"
        timers.append(Timer(renotify_at, TimerKind.RENOTIFY, alert.id, key))
    escalate_at = next_escalation_at(alert, policy)
    if escalate_at is not None:
        key = f"{alert.id}/escalate/{unacknowledged_escalations(alert) + 1}"
        timers.append(Timer(escalate_at, TimerKind.ESCALATE, alert.id, key))
    return timers


def no_data_timer(asset_uuid: UUID, last_reading_at: datetime, policy: AlertPolicy = DEFAULT_POLICY) -> Timer:
    """Keyed by the last reading, so every fresh reading replaces the pending timer."""
    key = f"{asset_uuid}/no_data/{last_reading_at.isoformat()}"
    return Timer(last_reading_at + policy.no_data_after, TimerKind.NO_DATA, asset_uuid, key)
