"""`?after=`: wait for an issued position, refuse a never-issued one at once, read the head only when behind."""

from __future__ import annotations

import time
from typing import Any

import pytest

from pdm.api.errors import ApiError
from pdm.api.routers import _reads

pytestmark = pytest.mark.unit


class FakeLog:
    """A projection at `position` and a log whose newest issued position is `head`."""

    def __init__(self, position: int, head: int) -> None:
        self.position, self.head, self.head_reads = position, head, 0

    async def tracked_position(self, conn: Any, projection: str) -> int:
        return self.position

    async def log_head(self, conn: Any) -> int:
        self.head_reads += 1
        return self.head


def installed(monkeypatch: pytest.MonkeyPatch, log: FakeLog) -> FakeLog:
    monkeypatch.setattr(_reads, "tracked_position", log.tracked_position)
    monkeypatch.setattr(_reads, "log_head", log.log_head)
    return log


async def test_a_position_the_log_never_issued_is_refused_at_once_with_the_head(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    installed(monkeypatch, FakeLog(position=40, head=42))
    started = time.monotonic()

    with pytest.raises(ApiError) as refused:
        await _reads.wait_for(None, "alerts", 43)  # type: ignore[arg-type]

    assert time.monotonic() - started < 1
    assert (refused.value.status, refused.value.code) == (400, "position_not_issued")
    assert refused.value.details == {"field": "after", "after": 43, "head": 42}


async def test_a_caught_up_projection_answers_without_reading_the_log_head(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = installed(monkeypatch, FakeLog(position=42, head=42))

    await _reads.wait_for(None, "alerts", 42)  # type: ignore[arg-type]

    assert log.head_reads == 0


async def test_an_issued_position_not_yet_projected_still_waits_out_the_bound_then_answers_503(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = installed(monkeypatch, FakeLog(position=40, head=42))
    started = time.monotonic()

    with pytest.raises(ApiError) as lagging:
        await _reads.wait_for(None, "alerts", 42, timeout_s=0.2)  # type: ignore[arg-type]

    assert time.monotonic() - started >= 0.2
    assert (lagging.value.status, lagging.value.code) == (503, "projection_lagging")
    assert lagging.value.headers == {"Retry-After": "1"} and log.head_reads == 1
