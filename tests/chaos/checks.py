"""What must hold after every fault, each computed from the stores themselves.

- archive: every acknowledged reading exactly once, by count and by a checksum over
  (reading_id, revision);
- alerts: the anomaly ids recorded on Alert events equal the anomalies the batch path derives
  from the archive (none lost), and each is recorded once (none duplicated);
- read models: every table equals a from-scratch rebuild into scratch tables.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from psycopg import sql

from pdm.contracts import topics
from pdm.domain.application import PdmApplication
from pdm.eventstore import open_application
from pdm.infra.archive_reader import archived_assets, read_history
from pdm.infra.database import connect
from pdm.infra.kafka import client_options
from pdm.rollout.store import TRACKING as SAGA_TRACKING
from pdm.scoring import DEFAULT_MODEL, encode, score_history
from pdm.settings import Settings
from projections.rebuild import rebuild
from projections.registry import READ_MODELS
from projections.tables import REBUILD_SUFFIX

EVENTS_TABLE = f"{PdmApplication.name.lower()}_events"  # the eventsourcing library's naming
ARCHIVE_SUMMARY = (  # the checksum covers every row, so a duplicate changes it too
    "SELECT count(*), count(DISTINCT k), coalesce(md5(string_agg(k, ',' ORDER BY k COLLATE \"C\")), md5('')) "
    "FROM (SELECT reading_id::text || ':' || revision::text AS k FROM readings_archive) rows"
)


@dataclass(frozen=True)
class ArchiveCheck:
    rows: int
    distinct: int
    checksum: str
    lost: int
    unexpected: int

    @property
    def duplicates(self) -> int:
        return self.rows - self.distinct


def archive_ids(settings: Settings) -> set[str]:
    pg = settings.postgres
    with connect(pg.conninfo(), pg.schema_name) as conn:
        rows = conn.execute("SELECT reading_id::text || ':' || revision::text FROM readings_archive")
        return {r[0] for r in rows}


def archive_summary(settings: Settings) -> tuple[int, int, str]:
    pg = settings.postgres
    with connect(pg.conninfo(), pg.schema_name) as conn:
        row = conn.execute(ARCHIVE_SUMMARY).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), str(row[2])


def check_archive(settings: Settings, acknowledged: set[str]) -> ArchiveCheck:
    rows, distinct, digest = archive_summary(settings)
    stored = archive_ids(settings)
    return ArchiveCheck(rows, distinct, digest, len(acknowledged - stored), len(stored - acknowledged))


@dataclass(frozen=True)
class AlertCheck:
    expected: int
    recorded: int
    alerts: int
    lost: int
    duplicated: int
    unexpected: int
    missing: tuple[str, ...] = ()


def expected_anomalies(settings: Settings) -> set[str]:
    """Anomaly ids of the batch path over the archive: what an uninterrupted stream produces."""
    pg, channels = settings.postgres, DEFAULT_MODEL.feature_set.channels
    found: set[str] = set()
    for asset in archived_assets(pg.conninfo(), pg.schema_name):
        ts, values = read_history(pg.conninfo(), pg.schema_name, asset, channels)
        results, _ = score_history(lambda _: DEFAULT_MODEL, asset, ts, values)
        for result in results:
            found.update(orjson.loads(value)["anomaly_id"] for _, value in encode(result).anomalies)
    return found


def recorded_anomalies(settings: Settings) -> tuple[Counter[str], int]:
    """Every anomaly id an Alert event recorded (Raised or Updated), with how often; and alerts."""
    app = open_application(settings.postgres)
    seen: Counter[str] = Counter()
    alerts = 0
    try:
        start = 1
        while notifications := app.recorder.select_notifications(start, 1000):
            for n in notifications:
                if n.topic.rpartition(":")[2] not in ("Alert.Raised", "Alert.Updated"):
                    continue
                event = app.mapper.to_domain_event(n)
                seen[event.anomaly_id] += 1
                alerts += n.topic.endswith("Raised")
            start = notifications[-1].id + 1
    finally:
        app.close()
    return seen, alerts


def check_alerts(settings: Settings, expected: set[str]) -> AlertCheck:
    seen, alerts = recorded_anomalies(settings)
    recorded = set(seen)
    return AlertCheck(len(expected), len(recorded), alerts, len(expected - recorded),
                      sum(n - 1 for n in seen.values()), len(recorded - expected),
                      tuple(sorted(expected - recorded)[:10]))


def read_model_differences(settings: Settings) -> dict[str, int]:
    """Rows that differ (either way) between each live table and a rebuild from position 0."""
    pg = settings.postgres
    app = open_application(pg)
    differences: dict[str, int] = {}
    try:
        with connect(pg.conninfo(), pg.schema_name, autocommit=True) as conn:
            for name, cls in READ_MODELS.items():
                rebuild(app, conn, name, swap=False)
                fresh = cls(REBUILD_SUFFIX)
                for table in fresh.tables:
                    differences[table] = _differing_rows(conn, table, table + REBUILD_SUFFIX)
                    conn.execute(sql.SQL("DROP TABLE {}").format(fresh.t(table)))
                conn.execute("DELETE FROM projection_tracking WHERE projection = %s", (fresh.name,))
                conn.execute("DELETE FROM projection_parked WHERE projection = %s", (fresh.name,))
    finally:
        app.close()
    return differences


def _differing_rows(conn: object, live: str, fresh: str) -> int:
    a, b = sql.Identifier(live), sql.Identifier(fresh)
    query = sql.SQL("SELECT (SELECT count(*) FROM (TABLE {a} EXCEPT ALL TABLE {b}) x) + "
                    "(SELECT count(*) FROM (TABLE {b} EXCEPT ALL TABLE {a}) y)").format(a=a, b=b)
    row = conn.execute(query).fetchone()  # type: ignore[attr-defined]
    return int(row[0])


def followers_at_head(settings: Settings) -> bool:
    """Every projection and the rollout saga (which follows the log too) reached its head."""
    pg = settings.postgres
    with connect(pg.conninfo(), pg.schema_name) as conn:
        head = conn.execute(sql.SQL("SELECT coalesce(max(notification_id), 0) FROM {}").format(
            sql.Identifier(EVENTS_TABLE))).fetchone()
        rows = conn.execute("SELECT projection, position FROM projection_tracking UNION ALL "
                            "SELECT 'saga:' || name, position FROM rollout_saga_tracking").fetchall()
    positions = {name: int(position) for name, position in rows}
    wanted = [*READ_MODELS, "alert_timers", f"saga:{SAGA_TRACKING}"]
    return all(positions.get(name, -1) >= int(head[0]) for name in wanted) if head else False


async def consumer_lag(settings: Settings) -> dict[str, int]:
    """Messages not yet committed by the scoring group (readings) and the alerting group (anomalies).

    Read with a consumer of each group that never subscribes (so never joins): Tansu's answer
    to the admin client's OffsetFetch does not decode in aiokafka.
    """
    kafka = settings.kafka
    groups = {f"{kafka.topic_prefix}pdm-worker": topics.READINGS,
              kafka.topic("pdm-alerting"): topics.ANOMALIES}
    lag: dict[str, int] = {}
    for group, topic in groups.items():
        probe = AIOKafkaConsumer(group_id=group, enable_auto_commit=False, **client_options(kafka))
        await probe.start()
        try:
            parts = probe.partitions_for_topic(kafka.topic(topic)) or set()
            if not parts:
                await probe.topics()  # refresh metadata once
                parts = probe.partitions_for_topic(kafka.topic(topic)) or set()
            tps = [TopicPartition(kafka.topic(topic), p) for p in sorted(parts)]
            ends = await probe.end_offsets(tps) if tps else {}
            lag[group] = 0
            for tp, end in ends.items():
                committed = await probe.committed(tp) if end else 0
                lag[group] += max(0, end - max(committed or 0, 0))
        finally:
            await probe.stop()
    return lag
