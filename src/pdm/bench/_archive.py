"""Kafka-to-archive phase: the real reading gate against raw binary COPY of the same rows."""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg

from pdm.bench._http import BenchError
from pdm.contracts import topics
from pdm.infra import kafka as kafka_clients
from pdm.infra.archive import READING_COLUMNS, READING_TYPES
from pdm.infra.database import connect
from pdm.settings import Settings

Progress = Callable[[int], None]
RAW_TABLE = "bench_raw_copy"
RAW_COPY_CHUNK = 100_000
GATE_TIMEOUT_S = 300.0


@dataclass
class GateTimes:
    """Where the gate's time went; `first`/`last` bound its busy period."""

    first: float = 0.0
    last: float = 0.0
    sort_s: float = 0.0
    write_s: float = 0.0
    between_s: float = 0.0  # waiting in getmany between batches
    commit_s: float = 0.0
    batches: int = 0
    readings: list[int] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.last - self.first


async def preload(settings: Settings, messages: Sequence[tuple[bytes, bytes, int]]) -> None:
    await kafka_clients.ensure_topics(settings.kafka)
    producer = kafka_clients.producer(settings.kafka)
    topic = settings.kafka.topic(topics.READINGS)
    await producer.start()
    try:
        for start in range(0, len(messages), 200):
            futures = [await producer.send(topic, value, key=key)
                       for key, value, _ in messages[start:start + 200]]
            await asyncio.gather(*futures)
    finally:
        await producer.stop()


def raw_copy(settings: Settings, rows: Sequence[tuple[Any, ...]], months: Iterable[date],
             progress: Progress) -> float:
    """Binary COPY with psycopg's own row writer into a twin of the archive; returns seconds."""
    pg = settings.postgres
    with connect(pg.conninfo(), pg.schema_name) as conn:
        _create_twin(conn, months)
        statement = f"COPY {RAW_TABLE} ({', '.join(READING_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
        started = time.perf_counter()
        for chunk in range(0, len(rows), RAW_COPY_CHUNK):
            with conn.transaction(), conn.cursor().copy(statement) as copy:
                copy.set_types(list(READING_TYPES))
                for row in rows[chunk:chunk + RAW_COPY_CHUNK]:
                    copy.write_row(row)
            progress(min(RAW_COPY_CHUNK, len(rows) - chunk))
        seconds = time.perf_counter() - started
        _check_count(conn, RAW_TABLE, len(rows))
    return seconds


def _create_twin(conn: psycopg.Connection, months: Iterable[date]) -> None:
    """Same columns, key, index and monthly partitions as readings_archive."""
    with conn.transaction():
        conn.execute(f"CREATE TABLE {RAW_TABLE} (LIKE readings_archive INCLUDING DEFAULTS "
                     "INCLUDING CONSTRAINTS) PARTITION BY RANGE (ts)")
        conn.execute(f"ALTER TABLE {RAW_TABLE} ADD PRIMARY KEY (reading_id, revision, ts)")
        conn.execute(f"CREATE INDEX ON {RAW_TABLE} (asset_id, ts)")
        for month in sorted(months):
            nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
            conn.execute(f"CREATE TABLE {RAW_TABLE}_{month:%Y_%m} PARTITION OF {RAW_TABLE} "
                         f"FOR VALUES FROM ('{month}') TO ('{nxt}')")


def _check_count(conn: psycopg.Connection, table: str, expected: int) -> None:
    row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    if row is None or row[0] != expected:
        raise BenchError(f"{table} holds {row and row[0]} rows; expected {expected}")


def _gate_class() -> type:
    """The worker's own ReadingGate. Looked up by name at run time, as `pdm worker` execs
    `python -m streams`: the bench is a composition root, and the pdm library itself must
    not depend on the service shells (import-linter contract)."""
    return importlib.import_module("streams.gate").ReadingGate  # type: ignore[no-any-return]


async def run_gate(settings: Settings, expected: int, progress: Progress) -> GateTimes:
    """Runs the gate until `expected` readings are archived; times its busy period only, from the
    first consumed batch (so the ~3 s consumer-group join on Tansu is not counted)."""
    gate, times = _timed_gate(settings)
    task = asyncio.create_task(gate.run())
    deadline = time.monotonic() + GATE_TIMEOUT_S
    seen = 0
    while gate.stats.readings_archived < expected and not task.done():
        if time.monotonic() > deadline:
            raise BenchError(f"gate archived {gate.stats.readings_archived} of {expected} in time")
        await asyncio.sleep(0.02)
        progress(gate.stats.readings_archived - seen)
        seen = gate.stats.readings_archived
    gate.stopping.set()
    await task
    if gate.stats.readings_archived != expected or gate.stats.dead_lettered:
        raise BenchError(f"gate archived {gate.stats.readings_archived} and dead-lettered "
                         f"{gate.stats.dead_lettered}; expected {expected} archived")
    pg = settings.postgres
    with connect(pg.conninfo(), pg.schema_name) as conn:
        _check_count(conn, "readings_archive", expected)
    return times


def _time_commits(consumer: Any, times: GateTimes) -> None:
    commit = consumer.commit

    async def timed_commit(*args: Any, **kwargs: Any) -> None:
        begun = time.perf_counter()
        try:
            await commit(*args, **kwargs)
        finally:
            times.commit_s += time.perf_counter() - begun

    consumer.commit = timed_commit


def _timed_gate(settings: Settings) -> tuple[Any, GateTimes]:
    times = GateTimes()
    base = _gate_class()

    class TimedGate(base):  # type: ignore[valid-type, misc]
        """The real gate; only records when its batches start and end, and where time goes."""

        async def _process(self, *args: Any) -> None:
            now = time.perf_counter()
            if not times.first:
                times.first = now
                _time_commits(args[0], times)
            else:
                times.between_s += now - times.last
            await super()._process(*args)
            times.last = time.perf_counter()
            times.batches += 1

        def sort(self, *args: Any) -> Any:
            begun = time.perf_counter()
            try:
                return super().sort(*args)
            finally:
                times.sort_s += time.perf_counter() - begun

    gate = TimedGate(settings)
    write = gate.writer.write

    def timed_write(rows: Any) -> Any:
        begun = time.perf_counter()
        try:
            return write(rows)
        finally:
            times.write_s += time.perf_counter() - begun
            times.readings.append(len(rows))

    gate.writer.write = timed_write
    return gate, times
