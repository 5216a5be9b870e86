"""A user's path: `pdm up`, `pdm simulate --faults`, then alerts handled over HTTP and kept as labels."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from pdm.alerting.labels import resolved_alert_labels
from pdm.eventstore import open_application
from pdm.infra.broker import free_port
from pdm.settings import PostgresSettings

pytestmark = pytest.mark.e2e
FAULTED = {"pump-1": "overheat", "motor-1": "imbalance"}
HEALTHY = ("pump-2", "motor-2")


@pytest.fixture
def stack(tmp_path: Path, postgres_conninfo: str, schema: str) -> Iterator[dict[str, Any]]:
    api_port, worker_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PDM_")}
    env.update(PDM_DATA_DIR=str(tmp_path / "data"), PDM_API__PORT=str(api_port),
               PDM_WORKER__WEB_PORT=str(worker_port), PDM_SAGA__METRICS_PORT=str(free_port()), PDM_PROJECTOR__METRICS_PORT=str(free_port()),
               PDM_LOG_FORMAT="json", PDM_POSTGRES__URL=postgres_conninfo,
               PDM_POSTGRES__SCHEMA_NAME=schema)
    log = open(tmp_path / "up.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "pdm", "up"], env=env, stdout=log, stderr=log)
    yield {"env": env, "url": f"http://127.0.0.1:{api_port}", "data": tmp_path / "data", "proc": proc,
           "worker": f"http://127.0.0.1:{worker_port}"}
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        for child in psutil.Process(proc.pid).children(recursive=True):
            child.kill()
        proc.kill()
    log.close()


def _until(predicate: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout_s}s")


def _get(url: str, headers: dict[str, str]) -> Any:
    try:
        response = httpx.get(url, headers=headers, timeout=5)
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 200 else None


def test_each_injected_fault_raises_one_alert_that_is_handled_over_http_and_becomes_a_label(
    stack: dict[str, Any],
) -> None:
    _until(lambda: _get(stack["url"] + "/readyz", {}), 60, "stack ready")
    key = _until(lambda: (stack["data"] / "dev-api-key").exists() and
                 (stack["data"] / "dev-api-key").read_text().strip(), 30, "dev key")
    auth = {"Authorization": f"Bearer {key}"}
    faults = ",".join(f"{kind}:{asset}@20m+15m" for asset, kind in FAULTED.items())

    simulated = subprocess.run(
        [sys.executable, "-m", "pdm", "simulate", "--assets", "4", "--duration", "40m", "--seed", "3",
         "--as-fast-as-possible", "--faults", faults], env=stack["env"], capture_output=True, text=True,
        timeout=120)
    try:
        alerts = _until(lambda: _alerts_of_faulted(stack["url"], auth), 90, "an alert per faulted asset")
    except AssertionError as missing:
        health = _get(stack["worker"] + "/healthz", {}) or {}
        raise AssertionError(f"{missing}; scoring={health.get('scoring')} alerting={health.get('alerting')} "
                             f"simulate exit={simulated.returncode}") from None
    time.sleep(5)
    alerts = _alerts_of_faulted(stack["url"], auth) or alerts
    quiet = [a for asset in HEALTHY for a in _get(f"{stack['url']}/v1/alerts?asset_id={asset}", auth)["items"]]
    first = alerts["pump-1"][0]
    acked = httpx.post(f"{stack['url']}/v1/alerts/{first['alert_id']}/acknowledge", headers=auth,
                       json={"by": "ana", "note": "checking the pump"}, timeout=10)
    resolved = httpx.post(f"{stack['url']}/v1/alerts/{first['alert_id']}/resolve", headers=auth,
                          json={"by": "ana", "resolution": "cooling fan replaced", "fault_confirmed": True},
                          timeout=10)

    assert simulated.returncode == 0, simulated.stderr
    assert {asset: len(items) for asset, items in alerts.items()} == {"pump-1": 1, "motor-1": 1}
    assert all(a["kind"] == "anomalous_score" for items in alerts.values() for a in items)
    assert quiet == []
    assert acked.status_code == 200 and resolved.status_code == 200, (acked.text, resolved.text)
    app = open_application(PostgresSettings(url=stack["env"]["PDM_POSTGRES__URL"],  # type: ignore[arg-type]
                                            schema_name=stack["env"]["PDM_POSTGRES__SCHEMA_NAME"]))
    labels = resolved_alert_labels(app, asset_id="pump-1")
    app.close()
    assert [(str(label.alert_id), label.fault_confirmed) for label in labels] == [(first["alert_id"], True)]


def _alerts_of_faulted(url: str, auth: dict[str, str]) -> dict[str, list[dict[str, Any]]] | None:
    found = {}
    for asset in FAULTED:
        page = _get(f"{url}/v1/alerts?asset_id={asset}", auth)
        if not page or not page["items"]:
            return None
        found[asset] = page["items"]
    return found
