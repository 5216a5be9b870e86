"""One chaos scenario: stream simulated readings, inject a fault mid-stream, let the system heal
by itself, then check every guarantee and add a row to the report."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from pdm.settings import Settings
from tests.chaos.checks import (
    AlertCheck,
    ArchiveCheck,
    archive_ids,
    check_alerts,
    check_archive,
    consumer_lag,
    expected_anomalies,
    followers_at_head,
    read_model_differences,
    recorded_anomalies,
)
from tests.chaos.load import HttpProducer, LoadResult, simulator
from tests.chaos.stack import ChaosStack, wait_for

MINUTES = 25  # past the detector's 15 min warm-up, so the faults below raise alerts
# Faults the detector flags at once (its "severe" window): which window raises is then not a
# matter of a score near the threshold. A slow overheat (onset at a score of ~0.52 against 0.5)
# raised on another window in the stream than in the batch path in 2 of ~12 database-fault
# runs; docs/reliability.md keeps that finding open. pump-2 and motor-2 stay fault-free.
FAULTS = "spike:pump-1@17m,imbalance:motor-1@19m"
Inject = Callable[[], Awaitable[Any]]


@dataclass
class Outcome:
    fault: str
    load: LoadResult
    archive: ArchiveCheck
    alerts: AlertCheck
    read_models: dict[str, int]
    recovered_s: float
    scenario_s: float
    uncommitted: dict[str, int]
    alerting: dict[str, Any]

    @property
    def held(self) -> list[str]:
        checks = {
            "archive exactly once": self.archive.lost == self.archive.unexpected == self.archive.duplicates == 0,
            "alerts none lost or doubled": self.alerts.lost == self.alerts.duplicated == self.alerts.unexpected == 0,
            "read models = rebuild": not any(self.read_models.values()),
            "recovered unaided": True,  # run() raises before an Outcome exists otherwise
        }
        return [name for name, ok in checks.items() if ok]

    def row(self) -> dict[str, Any]:
        return {
            "fault": self.fault, "checks": f"{len(self.held)}/4 held: " + ", ".join(self.held),
            "readings_sent": self.load.readings, "readings_lost": self.archive.lost,
            "duplicates": self.archive.duplicates, "alerts": self.alerts.alerts,
            "alerts_lost": self.alerts.lost, "alerts_duplicated": self.alerts.duplicated,
            "read_model_diffs": sum(self.read_models.values()), "recovered_s": round(self.recovered_s, 1),
            "scenario_s": round(self.scenario_s, 1), "http_retries": self.load.retries,
            "http_failures": dict(self.load.failures), "archive": asdict(self.archive),
            "alert_check": asdict(self.alerts), "read_model_tables": self.read_models,
            "uncommitted_offsets": self.uncommitted, "worker_alerting": self.alerting,
        }


async def run(stack: ChaosStack, settings: Settings, fault: str, inject: Inject,
              *, at: float = 0.4, report: list[dict[str, Any]] | None = None) -> Outcome:
    started = time.monotonic()
    producer = HttpProducer(stack.api_url, stack.headers(), simulator(MINUTES, FAULTS), MINUTES)
    load = asyncio.create_task(producer.run())
    await producer.reached(at)
    fault_at = time.monotonic()
    await inject()
    result = await asyncio.wait_for(load, 180)
    await asyncio.to_thread(stack.wait_healthy, 90)
    recovered_s = time.monotonic() - fault_at
    expected, lag = await settle(settings, result)
    archive = await asyncio.to_thread(check_archive, settings, result.acknowledged)
    alerts = await asyncio.to_thread(check_alerts, settings, expected)
    read_models = await asyncio.to_thread(read_model_differences, settings)
    outcome = Outcome(fault, result, archive, alerts, read_models, recovered_s, time.monotonic() - started, lag,
                      stack.worker_health().get("alerting", {}))
    if report is not None:
        report.append(outcome.row())
    return outcome


async def settle(settings: Settings, load: LoadResult, timeout_s: float = 90) -> tuple[set[str], dict[str, int]]:
    """Waits until the archive holds what was acknowledged, the event store has recorded every
    anomaly the batch path derives from that archive, and the projections reached the head.
    Returns those anomaly ids and the consumer groups' uncommitted messages (for the report)."""
    await asyncio.to_thread(wait_for, lambda: load.acknowledged <= archive_ids(settings), timeout_s,
                            "every acknowledged reading archived", 0.5)
    expected = await asyncio.to_thread(expected_anomalies, settings)
    with contextlib.suppress(AssertionError):  # a lost anomaly is reported by the check, not here
        await asyncio.to_thread(wait_for, lambda: expected <= set(recorded_anomalies(settings)[0]),
                                timeout_s, "every anomaly recorded on an alert", 1.0)
    await asyncio.to_thread(wait_for, lambda: followers_at_head(settings), timeout_s,
                            "projections and saga at the event store's head", 0.5)
    return expected, await consumer_lag(settings)
