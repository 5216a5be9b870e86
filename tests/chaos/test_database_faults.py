"""PostgreSQL restarted, or every service's connections cut, mid-stream: each service reconnects."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pdm.settings import Settings
from tests.chaos import scenario
from tests.chaos.conftest import pg_ctl
from tests.chaos.stack import ChaosStack
from tests.chaos.test_process_kills import assert_guarantees

pytestmark = pytest.mark.chaos

TERMINATE = ("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
             "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'")


def cut_connections(conninfo: str) -> int:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute(TERMINATE).fetchone()
    return int(row[0]) if row else 0


async def test_a_postgresql_restart_mid_stream_loses_or_doubles_nothing(
    stack: ChaosStack, chaos_settings: Settings, chaos_postgres: tuple[str, Path | None],
    chaos_report: list[dict[str, Any]],
) -> None:
    _, data_dir = chaos_postgres
    if data_dir is None:
        pytest.skip("PostgreSQL is external (PDM_POSTGRES__URL): the suite does not restart a server it does not own")

    outcome = await scenario.run(stack, chaos_settings, "restart PostgreSQL",
                                 lambda: asyncio.to_thread(pg_ctl, data_dir, "restart"), report=chaos_report)

    assert_guarantees(outcome)


async def test_cutting_every_service_s_database_connections_twice_loses_or_doubles_nothing(
    stack: ChaosStack, chaos_settings: Settings, chaos_report: list[dict[str, Any]],
) -> None:
    conninfo = chaos_settings.postgres.conninfo()
    cut: list[int] = []

    async def cut_twice() -> None:
        cut.append(await asyncio.to_thread(cut_connections, conninfo))
        await asyncio.sleep(1.5)
        cut.append(await asyncio.to_thread(cut_connections, conninfo))

    outcome = await scenario.run(stack, chaos_settings, "pg_terminate_backend on every service connection",
                                 cut_twice, report=chaos_report)

    assert_guarantees(outcome)
    assert cut[0] > 0
