"""Replay test helpers: a migrated schema with event tables, and simulated history written to the archive."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg
import pytest

from pdm.eventstore import create_event_tables
from pdm.infra.migrations import migrate
from pdm.settings import Settings
from pdm.simulation import Simulator
from pdm.simulation.assets import CHANNELS

START = datetime(2026, 3, 1, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
COLUMNS = "asset_id, ts, reading_id, revision, channels, vals, flags, source_partition, source_offset"


@pytest.fixture
def archive(settings: Settings) -> Settings:
    migrate(settings.postgres.conninfo(), settings.postgres.schema_name)
    create_event_tables(settings.postgres)
    return settings


def connect(settings: Settings) -> psycopg.Connection:
    return psycopg.connect(settings.postgres.conninfo(), options=f"-c search_path={settings.postgres.schema_name}")


def write_rows(settings: Settings, rows: list[tuple]) -> None:  # type: ignore[type-arg]
    """(asset, ts, revision, {channel: value}, flags) rows, through COPY like the gate."""
    with connect(settings) as conn:
        conn.execute("SELECT readings_archive_ensure_month(%s)", (START.date().replace(day=1),))
        with conn.cursor().copy(f"COPY readings_archive ({COLUMNS}) FROM STDIN") as copy:
            for i, (asset, ts, revision, values, flags) in enumerate(rows):
                copy.write_row((asset, ts, uuid.uuid4(), revision, list(values), list(values.values()),
                                flags, 0, i))


def simulated_rows(sim: Simulator, duration: timedelta, flags: int = 0) -> list[tuple]:  # type: ignore[type-arg]
    piece = sim.slice(0, sim.tick_count(duration))
    rows = []
    for t, ts_ms in enumerate(piece.ts_ms.tolist()):
        for a, spec in enumerate(sim.assets):
            values = {c: float(v) for c, v in zip(CHANNELS, piece.values[a, t], strict=True) if not np.isnan(v)}
            if values:
                rows.append((spec.asset_id, EPOCH + timedelta(milliseconds=ts_ms), 0, values, flags))
    return rows
