"""Backfill's alerting rule: an anomaly older than the page horizon is history, recorded but not paged."""

from __future__ import annotations

from datetime import datetime, timedelta

DEFAULT_PAGE_HORIZON = timedelta(hours=1)


def is_historical(onset: datetime, now: datetime, horizon: timedelta = DEFAULT_PAGE_HORIZON) -> bool:
    """By event time against the consumer's clock, whatever flag the readings carried: a live
    reading that arrives a day late pages nobody either, and backfilled data from the last
    minutes (a plant catching up after an outage) still pages, because it may still matter."""
    return now - onset > horizon
