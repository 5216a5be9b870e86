"""A real `pdm up` under test: its supervisor, its children, and the faults done to them.

The stack runs on the broker and PostgreSQL it is given (never embedded ones of its own), so a
scenario can restart those servers underneath it. Children are found by command line, killed
with SIGKILL, and the supervisor alone must bring them back: the suite never restarts a service.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil

from pdm.infra.broker import free_port
from pdm.settings import Settings
from tests.conftest import settings_env

# How each service's child process is recognised in `pdm up`'s process tree.
SERVICES: dict[str, tuple[str, ...]] = {
    "api": ("-m", "pdm", "api"),
    "worker": ("-m", "streams"),
    "projector": ("-m", "projections"),
    "saga": ("-m", "pdm", "saga"),
}


def wait_for(predicate: Callable[[], object], timeout_s: float, what: str, every_s: float = 0.2) -> float:
    """Seconds it took for `predicate` to hold; AssertionError naming `what` if it never did."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if predicate():
            return time.monotonic() - started
        time.sleep(every_s)
    raise AssertionError(f"{what}: not within {timeout_s:.0f}s")


class ChaosStack:
    """`python -m pdm up` with the test's isolated settings and its own ports."""

    def __init__(self, settings: Settings, workdir: Path) -> None:
        self.settings, self.workdir = settings, workdir
        self.api_port, self.worker_port, self.projector_port = free_port(), free_port(), free_port()
        self.log_path = workdir / "up.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self) -> ChaosStack:
        env = {**settings_env(self.settings), "PDM_API__PORT": str(self.api_port),
               "PDM_WORKER__WEB_PORT": str(self.worker_port),
               "PDM_PROJECTOR__METRICS_PORT": str(self.projector_port)}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "pdm", "up"], env=env, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        return self

    def headers(self) -> dict[str, str]:
        """The development key `pdm up` wrote, when API keys are enforced."""
        path = self.settings.data_dir / "dev-api-key"
        return {"Authorization": f"Bearer {path.read_text().strip()}"} if path.exists() else {}

    # -- faults ---------------------------------------------------------------------------------

    def child(self, service: str) -> psutil.Process | None:
        assert self.proc is not None
        marker = SERVICES[service]
        with contextlib.suppress(psutil.NoSuchProcess):
            for child in psutil.Process(self.proc.pid).children():
                with contextlib.suppress(psutil.NoSuchProcess):
                    argv = tuple(child.cmdline())
                    if any(argv[i:i + len(marker)] == marker for i in range(len(argv))):
                        return child
        return None

    def kill(self, service: str) -> int:
        """SIGKILL the service's process (and whatever it started); returns the killed pid."""
        child = self.child(service)
        assert child is not None, f"{service} is not running"
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)  # the supervisor starts each child in its own group
        return child.pid

    def restarted(self, service: str, old_pid: int) -> bool:
        child = self.child(service)
        return child is not None and child.pid != old_pid and child.is_running()

    # -- health ---------------------------------------------------------------------------------

    def api_ready(self) -> bool:
        try:
            return httpx.get(f"{self.api_url}/readyz", timeout=3).status_code == 200
        except httpx.HTTPError:
            return False

    def worker_health(self) -> dict:  # type: ignore[type-arg]
        try:
            return httpx.get(f"http://127.0.0.1:{self.worker_port}/healthz", timeout=3).json()  # type: ignore[no-any-return]
        except (httpx.HTTPError, ValueError):
            return {}

    def worker_joined(self) -> bool:
        health = self.worker_health()
        return bool(health.get("joined_after_s") is not None and health.get("assigned_partitions"))

    def projector_up(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.projector_port}/metrics", timeout=3).status_code == 200
        except httpx.HTTPError:
            return self.child("projector") is not None  # metrics are optional; the process is not

    def healthy(self) -> bool:
        return all(self.child(name) is not None for name in SERVICES) and self.api_ready() \
            and self.worker_joined() and self.projector_up()

    def wait_healthy(self, timeout_s: float = 60) -> float:
        return wait_for(self.healthy, timeout_s, "every service up, ready and joined", every_s=0.3)

    def crashes_logged(self) -> int:
        return self.log_path.read_text(errors="replace").count('"service_crashed"')

    # -- teardown -------------------------------------------------------------------------------

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        tree = psutil.Process(self.proc.pid).children(recursive=True)
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        for process in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
