"""Pacing: the token bucket behind `--rate` and the tick clock of `pdm simulate`."""

from __future__ import annotations

import pytest

from pdm.ingest.rate import TokenBucket, seconds_until_tick, ticks_due

pytestmark = pytest.mark.unit


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_empty_bucket_makes_the_first_send_wait_for_its_tokens() -> None:
    bucket = TokenBucket(1000, clock=FakeClock())

    wait = bucket.reserve(100)

    assert wait == pytest.approx(0.1)


def test_sending_right_after_each_wait_holds_the_rate_exactly() -> None:
    clock = FakeClock()
    bucket = TokenBucket(500, clock=clock)
    started = clock.now

    for _ in range(50):
        clock.now += bucket.reserve(37)

    assert 50 * 37 / (clock.now - started) == pytest.approx(500)


def test_idle_time_buys_at_most_one_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1000, burst_s=0.1, clock=clock)
    clock.now += 60

    free = bucket.reserve(100)
    paid = bucket.reserve(100)

    assert free == 0 and paid == pytest.approx(0.1)


def test_a_slow_rate_is_sent_in_small_chunks_and_a_fast_one_in_full_batches() -> None:
    assert TokenBucket(5).chunk(1000) == 1
    assert TokenBucket(1000).chunk(1000) == 100
    assert TokenBucket(1_000_000).chunk(1000) == 1000


@pytest.mark.parametrize("rate", [0, -1, float("inf"), float("nan")])
def test_a_rate_must_be_positive_and_finite(rate: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(rate)


async def test_acquire_sleeps_for_the_reserved_time() -> None:
    import time

    bucket = TokenBucket(2000)
    started = time.monotonic()

    await bucket.acquire(100)

    assert 0.045 <= time.monotonic() - started < 0.5


def test_tick_zero_is_due_at_once_and_speedup_brings_later_ticks_forward() -> None:
    assert ticks_due(0.0, rate_hz=10, speedup=1) == 1
    assert ticks_due(0.999, rate_hz=10, speedup=1) == 10
    assert ticks_due(1.0, rate_hz=10, speedup=1) == 11
    assert ticks_due(1.0, rate_hz=10, speedup=60) == 601


def test_the_wait_for_a_tick_is_its_wall_time_minus_the_elapsed_time() -> None:
    assert seconds_until_tick(20, elapsed_s=1.5, rate_hz=10, speedup=1) == pytest.approx(0.5)
    assert seconds_until_tick(20, elapsed_s=3.0, rate_hz=10, speedup=1) == 0
