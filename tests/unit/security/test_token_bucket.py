"""Token buckets allow a burst, then the configured rate, per key and scope independently."""

import pytest

from pdm.api.ratelimit import RateLimiter, TokenBucket

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_allows_its_capacity_then_says_how_long_to_wait() -> None:
    bucket = TokenBucket(rate=2.0, capacity=3.0, now=0.0)

    allowed = [bucket.take(0.0) for _ in range(3)]
    refused = bucket.take(0.0)

    assert allowed == [0.0, 0.0, 0.0]
    assert refused == pytest.approx(0.5)


def test_tokens_come_back_at_the_rate_but_never_beyond_capacity() -> None:
    bucket = TokenBucket(rate=10.0, capacity=2.0, now=0.0)
    bucket.take(0.0), bucket.take(0.0)

    after_a_tenth = bucket.take(0.1)
    after_an_hour = [bucket.take(3600.0) for _ in range(3)]

    assert after_a_tenth == 0.0
    assert after_an_hour[:2] == [0.0, 0.0] and after_an_hour[2] > 0


def test_keys_and_scopes_have_separate_budgets() -> None:
    clock = Clock()
    limiter = RateLimiter({"read": 1.0, "ingest": 1.0}, burst_s=1.0, clock=clock)

    first, second = limiter.check("k1", "read"), limiter.check("k1", "read")
    other_key, other_scope = limiter.check("k2", "read"), limiter.check("k1", "ingest")
    clock.now = 1.0
    refilled = limiter.check("k1", "read")

    assert first == 0.0 and second == pytest.approx(1.0)
    assert other_key == 0.0 and other_scope == 0.0
    assert refilled == 0.0


def test_a_rate_of_zero_means_unlimited() -> None:
    limiter = RateLimiter({"ingest": 0.0}, burst_s=1.0, clock=Clock())

    waits = {limiter.check("k", "ingest") for _ in range(10_000)}

    assert waits == {0.0}
