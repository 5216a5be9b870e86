"""Rebuilding a read model from scratch gives the same rows as maintaining it batch by batch."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest

from pdm.domain.application import PdmApplication
from pdm.infra.migrations import migrate
from pdm.settings import Settings
from projections.parking import ParkingRunner
from projections.rebuild import rebuild
from projections.registry import READ_MODELS, read_models
from tests.integration.readside.conftest import READ_TABLES, T0, dump, simulate_run

pytestmark = pytest.mark.integration
FLEET_FROM_ASSET_HEALTH = ("SELECT site, status, count(*)::int, sum(open_alerts)::int FROM rm_asset_health "
                           "GROUP BY 1, 2 ORDER BY 1, 2")


def test_a_rebuild_from_scratch_equals_the_incrementally_maintained_tables_row_for_row(
    domain: PdmApplication, db: psycopg.Connection[Any]
) -> None:
    runner = ParkingRunner(domain, db, read_models(), batch_size=7)  # small batches: many increments
    simulate_run(domain, assets=3)
    runner.catch_up()
    simulate_run_more = simulate_run(domain, assets=6, prefix="fan")
    domain.decommission_asset("fan-2", "scrapped", T0 + timedelta(days=1), actor="ops", correlation_id="t")
    runner.catch_up()
    incremental = {table: dump(db, table) for table in READ_TABLES}

    results = [rebuild(domain, db, name) for name in READ_MODELS]

    assert simulate_run_more and all(r.position == domain.recorder.max_notification_id() for r in results)
    assert {table: dump(db, table) for table in READ_TABLES} == incremental
    assert all(incremental[t] for t in ("rm_alerts", "rm_alert_timeline", "rm_asset_health"))
    assert incremental["rm_fleet_summary"] == db.execute(FLEET_FROM_ASSET_HEALTH).fetchall()
    assert {status for _, status, _, _ in incremental["rm_fleet_summary"]} == {"decommissioned", "warning"}  # "ok" emptied and pruned


def test_a_rebuilt_read_model_keeps_the_grants_of_the_table_it_replaces(
    domain: PdmApplication, db: psycopg.Connection[Any], event_store: Settings, reader_role: tuple[str, str]
) -> None:
    role, as_reader = reader_role
    pg = event_store.postgres
    migrate(pg.conninfo(), pg.schema_name, reader_role=role)
    simulate_run(domain, assets=2)

    rebuild(domain, db, "alerts")

    with psycopg.connect(as_reader, options=f"-c search_path={pg.schema_name}", autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM rm_alerts").fetchone()[0] > 0  # type: ignore[index]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM rm_alerts")
