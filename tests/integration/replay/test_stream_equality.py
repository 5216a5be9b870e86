"""Replay equals the stream bit for bit, for live and for backfilled history, through the real worker;
the old fault in that history is recorded as a historical alert and pages nobody."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from pdm.contracts import parse_event_time, to_epoch_ms, topics
from pdm.domain.alerts import Alert, AlertState
from pdm.domain.rules import needs_attention
from pdm.eventstore import open_application
from pdm.infra.kafka import ensure_topics
from pdm.ingest.publisher import ReadingPublisher
from pdm.replay.backfill import is_historical
from pdm.replay.history import FLAG_BACKFILL
from pdm.replay.run import replay_features, replay_scores
from pdm.replay.source import ReplaySource
from pdm.scoring import DEFAULT_MODEL
from pdm.settings import Settings
from pdm.simulation import Simulator
from tests.integration.conftest import WorkerProcess, archive_count, read_topic, wait_until
from tests.integration.streaming.conftest import expected_windows, read_scores

pytestmark = pytest.mark.integration
FS = DEFAULT_MODEL.feature_set
START = datetime(2026, 2, 2, tzinfo=UTC)
# One day in the suite; `PDM_BACKFILL_TEST_DAYS=7` runs the week by hand (docs/replay.md).
DAYS = float(os.environ.get("PDM_BACKFILL_TEST_DAYS", "1"))
DURATION = timedelta(days=DAYS)
FAULT = f"overheat:pump-1@{int(DURATION.total_seconds() // 60) - 60}m+5m"
PATIENCE_S = 45 * max(1.0, DAYS)  # the worker's pace is the limit: scale waits with the history


async def publish(settings: Settings, sim: Simulator, *, backfill: bool, ticks: int = 45) -> int:
    await ensure_topics(settings.kafka)
    publisher = ReadingPublisher(settings.kafka)
    total, sent = sim.tick_count(DURATION), 0
    try:
        for first in range(0, total, ticks):
            piece = sim.slice(first, min(ticks, total - first))
            await publisher.publish_batches([piece.batch(a, backfill=backfill) for a in range(len(sim.assets))])
            sent += piece.values.shape[0] * piece.values.shape[1]
    finally:
        await publisher.stop()
    return sent


def streamed(messages: list[bytes] | list[dict], field: str) -> dict[tuple[str, int], object]:  # type: ignore[type-arg]
    """Latest message per (asset, window end): a redelivered window repeats the same value."""
    out = {}
    for raw in messages:
        m = raw if isinstance(raw, dict) else orjson.loads(raw)
        out[(m["asset_id"], to_epoch_ms(parse_event_time(m["ts"])))] = m[field]
    return out


@pytest.mark.parametrize("backfill", [False, True], ids=["live", "backfill"])
async def test_replayed_features_and_scores_equal_what_the_stream_produced(
    archive: Settings, worker: Callable[[], WorkerProcess], backfill: bool
) -> None:
    sim = Simulator(2, rate_hz=1.0, seed=11, start=START, faults=FAULT)
    worker()
    sent = await publish(archive, sim, backfill=backfill)
    scores = await read_scores(archive, expected_windows(sim, DURATION), timeout_s=PATIENCE_S)
    features = await read_topic(archive, topics.FEATURES, len(scores), timeout_s=PATIENCE_S)
    anomalies = await read_topic(archive, topics.ANOMALIES, 1, timeout_s=10)
    alerts = historical_alerts(archive, [orjson.loads(m) for m in anomalies])
    wait_until(lambda: archive_count(archive) >= sent, PATIENCE_S, "history archived")
    source = ReplaySource(archive, START, START + DURATION)

    table, _ = replay_features(FS, source.histories(FS.channels))
    replayed = replay_scores(lambda _: DEFAULT_MODEL, source.histories(FS.channels))

    keys = list(zip(table.asset_ids.tolist(), table.ts_ms.tolist(), strict=True))
    rows = [[None if v != v else v for v in row] for row in table.values.tolist()]
    assert dict(zip(keys, rows, strict=True)) == streamed(features, "values")
    assert dict(zip(keys, replayed.score.tolist(), strict=True)) == streamed(scores, "score")
    flagged = archive_count(archive, f"flags & {FLAG_BACKFILL} <> 0")
    assert flagged == (sent if backfill else 0)
    streamed_onsets = {(m["asset_id"], to_epoch_ms(parse_event_time(m["onset_ts"])))
                       for m in map(orjson.loads, anomalies)}
    onsets = set(zip(replayed.asset_ids[replayed.onset].tolist(), replayed.ts_ms[replayed.onset].tolist(),
                     strict=True))
    assert onsets and onsets == streamed_onsets
    assert all(is_historical(START + timedelta(milliseconds=t - to_epoch_ms(START)), datetime.now(UTC))
               for _, t in onsets)
    assert alerts and all(a.state is AlertState.SUPPRESSED for a in alerts)
    assert not any(needs_attention(a, datetime.now(UTC)) for a in alerts)


def historical_alerts(settings: Settings, anomalies: list[dict]) -> list[Alert]:  # type: ignore[type-arg]
    """The alert of every (asset, kind) that had an anomaly, once the worker's alerter applied it,
    each with its `Suppressed(by="backfill", reason="historical")` event."""
    domain = open_application(settings.postgres)
    try:
        keys = {(m["asset_id"], m["kind"]) for m in anomalies}
        wait_until(lambda: all(domain.latest_alert(*k) is not None for k in keys), 30, "alerts recorded")
        alerts = [domain.latest_alert(*k) for k in keys]
        reasons = {(e.by, e.reason) for a in alerts if a for e in domain.events.get(a.id)
                   if isinstance(e, Alert.Suppressed)}
    finally:
        domain.close()
    assert reasons == {("backfill", "historical")}
    return [a for a in alerts if a is not None]
