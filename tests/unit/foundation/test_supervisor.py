"""Crashed services come back with growing, bounded delays."""

import pytest

from pdm.runtime.supervisor import Backoff

pytestmark = pytest.mark.unit


def test_repeated_crashes_back_off_exponentially_up_to_the_cap() -> None:
    backoff = Backoff(initial_s=1.0, maximum_s=8.0)

    delays = [backoff.next_delay(uptime_s=0.1) for _ in range(6)]

    assert all(0.8 * b <= d <= 1.2 * b for d, b in zip(delays, [1, 2, 4, 8, 8, 8], strict=True))


def test_a_service_that_stayed_up_restarts_quickly_again() -> None:
    backoff = Backoff(initial_s=1.0, maximum_s=8.0, healthy_after_s=60)
    for _ in range(5):
        backoff.next_delay(uptime_s=0.1)

    delay = backoff.next_delay(uptime_s=120)

    assert delay <= 1.2
