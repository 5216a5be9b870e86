"""The real API for `pdm bench api`: `python -m pdm api` in its own process, with a read key."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pdm.bench._http import _wait_ready, api_env
from pdm.infra.api_keys import ApiKeyStore
from pdm.infra.broker import free_port
from pdm.settings import Settings


@dataclass(frozen=True)
class RunningApi:
    base_url: str
    token: str
    pid: int


def read_key(settings: Settings) -> str:
    """A real key with the `read` scope: the load goes through authentication like any client."""
    pg = settings.postgres
    token, _ = ApiKeyStore(pg.conninfo(), pg.schema_name).create("bench-api", ["read"])
    return token


@contextmanager
def api_process(settings: Settings, workers: int) -> Iterator[RunningApi]:
    """Auth on, read rate limit off (0 = unlimited): the bench measures queries, not the limiter."""
    port = free_port()
    token = read_key(settings)
    env = api_env(settings, port) | {"PDM_API__AUTH": "required", "PDM_API__RATE_LIMITS__READ": "0",
                                     "PDM_API__WORKERS": str(workers)}
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([sys.executable, "-m", "pdm", "api"], env=env, stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL)
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_ready(base_url, proc, log)
            yield RunningApi(base_url, token, proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
