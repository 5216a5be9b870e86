"""The broker restarted mid-stream on memory storage: a new, empty Tansu on the same port while
every service keeps running.

The old broker's topics, messages, committed offsets and Faust changelogs are gone with it, so
this scenario checks what survives that: every service recovers by itself, the API refuses with
503 + Retry-After while there is no broker, every reading acknowledged after the restart is
archived exactly once, and what was archived before stays there exactly once. Readings
acknowledged before the restart but not yet archived are counted, not failed; the alert and
read-model checks of the other scenarios do not apply (docs/reliability.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from pdm.contracts import topics
from pdm.infra.broker import EmbeddedBroker, free_port
from pdm.infra.database import connect
from pdm.infra.kafka import client_options
from pdm.settings import Settings
from tests.chaos import scenario
from tests.chaos.checks import archive_ids, archive_summary, followers_at_head
from tests.chaos.load import HttpProducer, LoadResult, checksum, simulator
from tests.chaos.stack import ChaosStack, wait_for

pytestmark = pytest.mark.chaos

FAULT = "restart the broker (memory storage: a new, empty Tansu)"
DOWN_AT_LEAST_S = 3.0
NOT_APPLICABLE = ("alerts: none lost / duplicated and read models = rebuild: the new broker has neither "
                  "Faust's changelogs nor the un-consumed anomalies, so the stream cannot equal the batch path")


@pytest.fixture
def own_broker(base_settings: Settings, tmp_path: Path) -> Iterator[EmbeddedBroker]:
    if not base_settings.kafka.embedded:
        pytest.skip("Kafka is external (PDM_KAFKA__BOOTSTRAP_SERVERS): the suite does not restart a broker it does not own")
    broker = EmbeddedBroker(port=free_port(), log_path=tmp_path / "tansu.log")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def bootstrap_servers(own_broker: EmbeddedBroker) -> str:
    """The stack runs on a broker of this test's own, so restarting it disturbs no other test."""
    return own_broker.bootstrap_servers


async def test_a_broker_restart_mid_stream_recovers_and_archives_every_later_reading_once(
    stack: ChaosStack, chaos_settings: Settings, own_broker: EmbeddedBroker,
    chaos_report: list[dict[str, Any]],
) -> None:
    started = time.monotonic()
    producer = HttpProducer(stack.api_url, stack.headers(), simulator(scenario.MINUTES, scenario.FAULTS),
                            scenario.MINUTES)
    row: dict[str, Any] = {"fault": FAULT, "injected": False}
    try:
        checks = await broker_restart(stack, chaos_settings, own_broker, producer, row)
    except BaseException as exc:
        chaos_report.append({**row, "checks": f"FAILED: {type(exc).__name__}: {str(exc)[:200]}", "held": [],
                             "failed": ["recovered unaided"], "readings_sent": producer.result.readings,
                             "scenario_s": round(time.monotonic() - started, 1)})
        raise
    held = [name for name, ok in checks.items() if ok]
    failed = [name for name, ok in checks.items() if not ok]
    row.update(checks=scenario.summary(checks) + f"; not applicable: {NOT_APPLICABLE}", held=held, failed=failed,
               alerts="n/a", alerts_lost="n/a", alerts_duplicated="n/a", read_model_diffs="n/a",
               scenario_s=round(time.monotonic() - started, 1))
    chaos_report.append(row)

    assert failed == [], f"checks failed: {failed}; {row}"


async def broker_restart(stack: ChaosStack, settings: Settings, broker: EmbeddedBroker, producer: HttpProducer,
                         row: dict[str, Any]) -> dict[str, bool]:
    load = asyncio.create_task(producer.run())
    await producer.reached(0.4)

    broker.stop()
    down_at = time.monotonic()
    row["injected"] = True
    probe = await post_while_down(stack, producer)
    await asyncio.sleep(max(0.0, DOWN_AT_LEAST_S - (time.monotonic() - down_at)))
    baseline = await asyncio.to_thread(Progress.now, stack, settings, producer.result)
    await asyncio.to_thread(broker.start)  # same port, empty: the services reconnect to it by themselves
    restarted_at = time.monotonic()
    recovery = asyncio.create_task(watch_recovery(stack, settings, producer.result, baseline, restarted_at))

    result = await asyncio.wait_for(load, 180)
    await asyncio.to_thread(stack.wait_healthy, 90)
    recovered_s = await asyncio.wait_for(recovery, 90)
    after = result.acknowledged - baseline.acknowledged
    await asyncio.to_thread(wait_for, lambda: after <= archive_ids(settings), 90,
                            "every reading acknowledged after the restart archived", 0.5)

    await asyncio.to_thread(wait_for, lambda: followers_at_head(settings), 60, "projections at the head", 0.5)
    # Archived is not yet scored: the scoring agent rejoins its group and catches up on its own.
    with contextlib.suppress(AssertionError):  # what was never projected is in the report
        await asyncio.to_thread(wait_for, lambda: scored_to_the_end(settings), 60, "scored to the end", 0.5)
    await asyncio.to_thread(projection_settled, settings)
    windows = await asyncio.to_thread(score_windows_after, settings, baseline.last_archived_ms)
    projected_after = await asyncio.to_thread(scores_projected, settings) - baseline.projected
    rows, distinct, digest = await asyncio.to_thread(archive_summary, settings)
    stored = await asyncio.to_thread(archive_ids, settings)
    after_rows, after_digest = await asyncio.to_thread(archived_rows_of, settings, after)
    lost_before = baseline.acknowledged - stored
    publish_timeout_s = settings.kafka.publish_timeout_s
    row.update(
        readings_sent=result.readings, readings_lost=len(after - stored), duplicates=rows - distinct,
        recovered_s=max(recovered_s.values(), default=None),
        acknowledged_before_restart=len(baseline.acknowledged), acknowledged_after_restart=len(after),
        lost_before_restart_not_a_failure=len(lost_before),
        archived_before_restart=len(baseline.archived), broker_down_s=round(restarted_at - down_at, 1),
        recovered_s_by_service=recovered_s, probe_while_down=probe, http_retries=result.retries,
        http_failures=dict(result.failures), archive={"rows": rows, "distinct": distinct, "checksum": digest},
        topics_after_restart=await topic_partitions(settings), scores_projected_after_restart=projected_after,
        # Reported, not checked: the projector can still miss the first scores of a replaced log
        # (docs/reliability.md, "Broker restart on memory storage").
        score_minutes_after_restart=windows,
    )
    return {
        "recovered unaided": stack.healthy() and set(recovered_s) == set(RECOVERED),
        "API answered 503 + Retry-After while the broker was down": (
            probe["status"] == 503 and probe["code"] == "broker_unavailable" and probe["retry_after"] > 0
            and probe["elapsed_s"] < publish_timeout_s + 5 and "500" not in result.failures),
        "acknowledged after the restart: each archived once (count)": after_rows == len(after) and not after - stored,
        "acknowledged after the restart: archive checksum = acknowledged": after_digest == checksum(after),
        "archived before the restart: all still there": baseline.archived <= stored,
        "archive: nothing unacknowledged": not stored - result.acknowledged,
        "archive: none duplicated": rows == distinct,
    }


ROWS_OF = (  # the same key and md5 as checks.ARCHIVE_SUMMARY, over the given readings only
    "SELECT count(*), coalesce(md5(string_agg(k, ',' ORDER BY k COLLATE \"C\")), md5('')) FROM "
    "(SELECT reading_id::text || ':' || revision::text AS k FROM readings_archive) rows WHERE k = ANY(%s)"
)


def archived_rows_of(settings: Settings, ids: set[str]) -> tuple[int, str]:
    """Archive rows of these readings (a duplicate counts twice) and their checksum."""
    pg = settings.postgres
    with connect(pg.conninfo(), pg.schema_name) as conn:
        row = conn.execute(ROWS_OF, (sorted(ids),)).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


SCORE_BUCKETS = """
WITH b AS (SELECT asset_id, bucket, n FROM rm_score_series),
usual AS (SELECT mode() WITHIN GROUP (ORDER BY n) AS n FROM b),
span AS (SELECT asset_id, max(bucket) AS last FROM b GROUP BY asset_id),
wanted AS (SELECT asset_id, generate_series(date_trunc('minute', %(since)s) + interval '2 minutes',
                                            last - interval '1 minute', interval '1 minute') AS bucket FROM span)
SELECT (SELECT n FROM usual), count(*), count(*) FILTER (WHERE b.n IS NULL OR b.n < usual.n),
       count(*) FILTER (WHERE b.n > usual.n)
FROM wanted LEFT JOIN b USING (asset_id, bucket), usual"""


def score_windows_after(settings: Settings, since_ms: int) -> dict[str, int]:
    """The score projection's minute buckets from two minutes after the last reading archived
    before the restart to each asset's last, partial bucket: how many hold fewer scores than a
    minute of the uninterrupted stream (the most common n) or none, and how many hold more."""
    pg = settings.postgres
    with connect(pg.conninfo(), pg.schema_name) as conn:
        row = conn.execute(SCORE_BUCKETS, {"since": datetime.fromtimestamp(since_ms / 1000, UTC)}).fetchone()
    assert row is not None
    return {"per_minute": row[0], "buckets": row[1], "short_or_missing": row[2], "long": row[3]}


def scored_to_the_end(settings: Settings) -> bool:
    """Every asset's latest projected score is within 30 s (three windows) of its last reading."""
    pg = settings.postgres
    with connect(pg.conninfo(), pg.schema_name) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE l.ts IS NULL OR l.ts < a.last - interval '30 seconds') FROM "
            "(SELECT asset_id, max(ts) AS last FROM readings_archive GROUP BY asset_id) a "
            "LEFT JOIN rm_asset_latest_score l USING (asset_id)").fetchone()
    return row is not None and row[0] == 0


def projection_settled(settings: Settings, quiet_s: float = 2.0, timeout_s: float = 30) -> None:
    """Waits until the score projection applied nothing new for `quiet_s`."""
    last, since, deadline = scores_projected(settings), time.monotonic(), time.monotonic() + timeout_s
    while time.monotonic() - since < quiet_s:
        assert time.monotonic() < deadline, f"score projection still moving after {timeout_s:.0f}s"
        time.sleep(0.5)
        now = scores_projected(settings)
        if now != last:
            last, since = now, time.monotonic()


async def post_while_down(stack: ChaosStack, producer: HttpProducer) -> dict[str, Any]:
    """One POST with no broker: status, error code, Retry-After and how long it took. The body is
    the stream's first tick again (acknowledged long before), so a wrong 202 adds no new reading."""
    readings = producer.sim.slice(0, 1).batch(0).readings()
    body = orjson.dumps([r.model_dump(mode="json", by_alias=True) for r in readings])
    began = time.monotonic()
    async with httpx.AsyncClient(base_url=stack.api_url, headers=stack.headers(), timeout=60) as client:
        response = await client.post("/v1/readings", content=body, headers={"content-type": "application/json"})
    try:
        code = response.json().get("code")
    except ValueError:
        code = None
    return {"status": response.status_code, "code": code, "retry_after": int(response.headers.get("retry-after", 0)),
            "elapsed_s": round(time.monotonic() - began, 2)}


class Progress:
    """What each service had done when the old broker was gone, to see each one move again."""

    def __init__(self, acknowledged: set[str], archived: set[str], scored: int, projected: int,
                 last_archived_ms: int) -> None:
        self.acknowledged, self.archived = acknowledged, archived
        self.scored, self.projected, self.last_archived_ms = scored, projected, last_archived_ms

    @classmethod
    def now(cls, stack: ChaosStack, settings: Settings, load: LoadResult) -> Progress:
        pg = settings.postgres
        with connect(pg.conninfo(), pg.schema_name) as conn:
            row = conn.execute("SELECT (extract(epoch FROM max(ts)) * 1000)::bigint FROM readings_archive").fetchone()
        return cls(set(load.acknowledged), archive_ids(settings), scored(stack), scores_projected(settings),
                   int(row[0]) if row and row[0] is not None else 0)


def scored(stack: ChaosStack) -> int:
    return int(stack.worker_health().get("scoring", {}).get("messages", -1))


def scores_projected(settings: Settings) -> int:
    """Scores the projector's score projection applied: each adds 1 to its bucket's n."""
    pg = settings.postgres
    try:
        with connect(pg.conninfo(), pg.schema_name) as conn:
            row = conn.execute("SELECT coalesce(sum(n), 0) FROM rm_score_series").fetchone()
    except psycopg.Error:
        return -1
    return int(row[0]) if row else 0


# What shows each service working on the new broker again: the API acknowledges, the worker's
# scoring agent consumes and its gate archives, the projector's score projection moves on. The
# saga exposes nothing about its Kafka consumer, so for it: its process alive and at the event
# store's head.
RECOVERED = {
    "api": lambda stack, settings, load, base: len(load.acknowledged) > len(base.acknowledged),
    "worker": lambda stack, settings, load, base: stack.worker_joined() and scored(stack) > base.scored
    and len(archive_ids(settings)) > len(base.archived),
    "projector": lambda stack, settings, load, base: stack.projector_up()
    and scores_projected(settings) > base.projected,
    "saga": lambda stack, settings, load, base: stack.child("saga") is not None and followers_at_head(settings),
}


async def watch_recovery(stack: ChaosStack, settings: Settings, load: LoadResult, base: Progress,
                         since: float, timeout_s: float = 90) -> dict[str, float]:
    """Seconds from the new broker's start until each service worked again."""
    recovered: dict[str, float] = {}
    while len(recovered) < len(RECOVERED) and time.monotonic() - since < timeout_s:
        for name, check in RECOVERED.items():
            if name not in recovered and await asyncio.to_thread(check, stack, settings, load, base):
                recovered[name] = round(time.monotonic() - since, 1)
        await asyncio.sleep(0.3)
    return recovered


async def topic_partitions(settings: Settings) -> dict[str, int]:
    """Partitions of pdm's topics on the new broker (pdm declares settings.kafka.partitions)."""
    admin = AIOKafkaAdminClient(**client_options(settings.kafka))
    await admin.start()
    try:
        names = [settings.kafka.topic(name) for name in topics.ALL_TOPICS]
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    return {t["topic"].removeprefix(settings.kafka.topic_prefix): len(t["partitions"]) for t in described
            if not t["error_code"]}
