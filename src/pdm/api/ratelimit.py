"""Per-key token buckets: each key gets its own budget per scope, refilled continuously."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

Clock = Callable[[], float]


class TokenBucket:
    """`rate` tokens a second up to `capacity`: bursts up to capacity, sustained at rate."""

    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate, self.capacity = rate, capacity
        self.tokens, self.updated = capacity, now

    def take(self, now: float) -> float:
        """0.0 when a token was taken; otherwise the seconds until one will be there."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class RateLimiter:
    """Buckets keyed by (key id, scope), so a noisy reader cannot spend a key's ingest budget.

    A rate of 0 means unlimited. Memory is bounded by the number of keys times four scopes.
    """

    def __init__(self, rates: Mapping[str, float], burst_s: float, clock: Clock = time.monotonic) -> None:
        self.rates, self.burst_s, self.clock = dict(rates), burst_s, clock
        self.buckets: dict[tuple[str, str], TokenBucket] = {}

    def check(self, key_id: str, scope: str) -> float:
        rate = self.rates.get(scope, 0.0)
        if rate <= 0:
            return 0.0
        now = self.clock()
        bucket = self.buckets.get((key_id, scope))
        if bucket is None:
            bucket = self.buckets[(key_id, scope)] = TokenBucket(rate, max(1.0, rate * self.burst_s), now)
        return bucket.take(now)
