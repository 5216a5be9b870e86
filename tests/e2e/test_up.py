"""`pdm up` as a user runs it: ready within a minute, self-healing, and leaving nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from pdm.infra.broker import free_port

pytestmark = pytest.mark.e2e


def _wait(predicate, timeout_s: float, what: str) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"{what} not within {timeout_s}s")


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _worker_joined(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json()["joined_after_s"] is not None
    except (httpx.HTTPError, ValueError, KeyError):
        return False


@pytest.fixture
def stack(tmp_path: Path, postgres_conninfo: str, schema: str) -> Iterator[dict[str, object]]:
    """A `pdm up` with an embedded broker; PostgreSQL is the test session's own server."""
    api_port, worker_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PDM_")}
    env.update(PDM_DATA_DIR=str(tmp_path / "data"), PDM_API__PORT=str(api_port),
               PDM_WORKER__WEB_PORT=str(worker_port), PDM_LOG_FORMAT="json",
               PDM_POSTGRES__URL=postgres_conninfo, PDM_POSTGRES__SCHEMA_NAME=schema)
    log = open(tmp_path / "up.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "pdm", "up"], env=env, stdout=log, stderr=log)
    yield {"proc": proc, "api_port": api_port, "worker_port": worker_port,
           "log": tmp_path / "up.log"}
    if proc.poll() is None:
        proc.kill()
        for child in psutil.Process(proc.pid).children(recursive=True):
            child.kill()
    log.close()


def test_up_is_ready_heals_a_killed_worker_and_stops_cleanly(stack: dict) -> None:  # type: ignore[type-arg]
    proc, api_port, worker_port = stack["proc"], stack["api_port"], stack["worker_port"]

    ready_after = _wait(lambda: _ready(api_port), 60, "/readyz 200")
    _wait(lambda: _worker_joined(worker_port), 60, "worker joined")
    worker = next(c for c in psutil.Process(proc.pid).children() if "streams" in " ".join(c.cmdline()))
    worker.send_signal(signal.SIGKILL)
    _wait(lambda: "service_crashed" in stack["log"].read_text(), 10, "crash logged")
    _wait(lambda: _worker_joined(worker_port), 60, "restarted worker joined")
    descendants = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGINT)
    proc.wait(30)

    assert ready_after < 60
    assert '"signal": "SIGKILL"' in stack["log"].read_text()
    assert not [p for p in descendants if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not _ready(api_port) and not _worker_joined(worker_port)


def _pdm(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PDM_")}
    return subprocess.run([sys.executable, "-m", "pdm", *args], env={**clean, **env},
                          capture_output=True, text=True, timeout=60)


def test_unreachable_broker_ends_with_one_line_naming_it(tmp_path: Path) -> None:
    port = free_port()

    result = _pdm("up", PDM_KAFKA__BOOTSTRAP_SERVERS=f"127.0.0.1:{port}",
                  PDM_DATA_DIR=str(tmp_path), PDM_POSTGRES__HOST="127.0.0.1",
                  PDM_POSTGRES__PORT=str(free_port()))

    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert f"127.0.0.1:{port}" in result.stderr


def test_malformed_url_ends_with_one_line_naming_the_variable() -> None:
    result = _pdm("migrate", PDM_POSTGRES__URL="http://db/pdm")

    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: invalid configuration: PDM_POSTGRES__URL:")
    assert result.stderr.strip().count("\n") == 0


def test_wrong_database_password_ends_with_one_line_naming_the_cause(
    postgres_conninfo: str, schema: str
) -> None:
    import psycopg

    with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
        hba = conn.execute("SHOW hba_file").fetchone()[0]  # type: ignore[index]
        if not os.access(hba, os.W_OK):
            pytest.skip("cannot require passwords on this server")
        conn.execute(f"DROP ROLE IF EXISTS {schema}; CREATE ROLE {schema} LOGIN PASSWORD 'right'")
        original = Path(hba).read_text()
        Path(hba).write_text(f"local all {schema} scram-sha-256\nhost all {schema} all scram-sha-256\n{original}")
        conn.execute("SELECT pg_reload_conf()")
    try:
        url = _url_as(postgres_conninfo, schema, "wrong")
        result = _pdm("migrate", PDM_POSTGRES__URL=url)
    finally:
        Path(hba).write_text(original)
        with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")

    assert result.returncode == 2
    assert "password authentication failed" in result.stderr
    assert "wrong" not in result.stderr and result.stderr.strip().count("\n") == 0


def _url_as(conninfo: str, user: str, password: str) -> str:
    """The same server as `conninfo` (TCP or unix socket), as another user, in URL form."""
    from urllib.parse import quote

    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(conninfo)
    host, port = quote(str(params.get("host", "localhost")), safe=""), params.get("port", 5432)
    return f"postgresql://{user}:{password}@/{params.get('dbname', 'postgres')}?host={host}&port={port}"
