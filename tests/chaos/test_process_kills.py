"""kill -9 of each service mid-stream: the supervisor restarts it and nothing is lost or doubled."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pdm.settings import Settings
from tests.chaos import scenario
from tests.chaos.stack import ChaosStack, wait_for

pytestmark = pytest.mark.chaos


def assert_guarantees(outcome: scenario.Outcome) -> None:
    """Every check the report lists held (the report's row says what was measured)."""
    failed = [name for name, ok in outcome.checks.items() if not ok]

    assert failed == [], f"checks failed: {failed}; {outcome.row()}"


async def kill_and_watch(stack: ChaosStack, service: str) -> None:
    pid = await asyncio.to_thread(stack.kill, service)
    await asyncio.to_thread(wait_for, lambda: stack.restarted(service, pid), 30, f"{service} restarted")


@pytest.mark.parametrize("service", ["worker", "projector", "api", "saga"])
async def test_a_service_killed_mid_stream_is_restarted_and_loses_or_doubles_nothing(
    service: str, stack: ChaosStack, chaos_settings: Settings, chaos_report: list[dict[str, Any]],
) -> None:
    crashes_before = stack.crashes_logged()

    outcome = await scenario.run(stack, chaos_settings, f"kill -9 {service}",
                                 lambda: kill_and_watch(stack, service), report=chaos_report)

    assert_guarantees(outcome)
    assert stack.crashes_logged() > crashes_before
