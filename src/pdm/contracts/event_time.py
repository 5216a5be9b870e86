"""The accepted event-time window: how far ahead of or behind the clock a reading may be."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from pdm.contracts.fields import to_epoch_ms


@dataclass(frozen=True, slots=True)
class EventTimePolicy:
    """Bounds relative to `now`; the clock is always an argument, never read here.

    `max_future_skew` absorbs clock drift of the sender; `max_age` bounds backfill;
    `max_live_age`, when set, sends older data that is not marked backfill away, so a
    late bulk load cannot raise live alerts.
    """

    max_future_skew: timedelta = timedelta(minutes=5)
    max_age: timedelta = timedelta(days=3653)
    max_live_age: timedelta | None = None


DEFAULT_POLICY = EventTimePolicy()


def check_event_time(
    ts: datetime | int,
    now: datetime,
    policy: EventTimePolicy = DEFAULT_POLICY,
    *,
    backfill: bool = False,
) -> str | None:
    """None when `ts` (datetime or epoch ms) is acceptable, else the reason it is not."""
    ts_ms = ts if isinstance(ts, int) else to_epoch_ms(ts)
    now_ms = to_epoch_ms(now)
    if ts_ms > now_ms + _ms(policy.max_future_skew):
        return (
            f"event time is {_human(ts_ms - now_ms)} in the future; at most "
            f"{_human(_ms(policy.max_future_skew))} of clock skew is accepted"
        )
    if ts_ms < now_ms - _ms(policy.max_age):
        return f"event time is older than the accepted {_human(_ms(policy.max_age))}"
    live = policy.max_live_age
    if not backfill and live is not None and ts_ms < now_ms - _ms(live):
        return f"event time is older than {_human(_ms(live))}; send it as a backfill batch"
    return None


def event_time_mask(
    ts_ms: np.ndarray,
    now: datetime,
    policy: EventTimePolicy = DEFAULT_POLICY,
    *,
    backfill: bool = False,
) -> np.ndarray:
    """Vectorised check_event_time: True where the row is inside the window."""
    now_ms = to_epoch_ms(now)
    oldest = now_ms - _ms(policy.max_age)
    if not backfill and policy.max_live_age is not None:
        oldest = max(oldest, now_ms - _ms(policy.max_live_age))
    return (ts_ms <= now_ms + _ms(policy.max_future_skew)) & (ts_ms >= oldest)


def _ms(delta: timedelta) -> int:
    return delta // timedelta(milliseconds=1)


def _human(ms: int) -> str:
    for unit, size in (("days", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1000)):
        if ms >= size:
            return f"{ms / size:.4g} {unit}"
    return f"{ms} ms"
