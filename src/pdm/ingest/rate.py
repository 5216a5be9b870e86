"""Pacing for the CLI publishers: a token bucket for `--rate` and the tick clock of `pdm simulate`."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable


class TokenBucket:
    """At most `rate` tokens per second on average, with bursts of at most `burst_s` seconds' worth.

    The bucket starts empty and a request may overdraw it (the caller then waits until the
    balance is back to zero): so a whole batch can be paid for at once, and the average over
    a run, even a short one, matches the limit instead of being inflated by a full first bucket.
    """

    def __init__(
        self, rate: float, *, burst_s: float = 0.1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if not rate > 0 or math.isinf(rate):
            raise ValueError(f"rate must be a positive number, got {rate}")
        self.rate = rate
        self.capacity = max(1.0, rate * burst_s)
        self.clock = clock
        self.tokens = 0.0
        self.stamp = clock()

    def reserve(self, count: int) -> float:
        """Takes `count` tokens now and returns how many seconds to wait before using them."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= count
        return max(0.0, -self.tokens / self.rate)

    async def acquire(self, count: int) -> None:
        wait = self.reserve(count)
        if wait > 0:
            await asyncio.sleep(wait)

    def chunk(self, batch_size: int, sends_per_s: float = 10.0) -> int:
        """Readings per send: about `sends_per_s` sends a second, so a low rate still flows smoothly."""
        return max(1, min(batch_size, math.ceil(self.rate / sends_per_s)))


def ticks_due(elapsed_s: float, rate_hz: float, speedup: float) -> int:
    """How many simulator ticks are due after `elapsed_s` wall seconds (tick 0 is due at once).

    Tick k happens at simulated time k / rate_hz, which is wall time k / (rate_hz * speedup).
    """
    return math.floor(elapsed_s * rate_hz * speedup + 1e-9) + 1


def seconds_until_tick(tick: int, elapsed_s: float, rate_hz: float, speedup: float) -> float:
    return max(0.0, tick / (rate_hz * speedup) - elapsed_s)
