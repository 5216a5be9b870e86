"""Supervise service child processes: prefixed output, restart with backoff, clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pdm.logs import get_logger

log = get_logger(__name__)

COLOURS = ["36", "35", "33", "32", "34", "31"]


@dataclass
class ServiceSpec:
    name: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Backoff:
    """Exponential backoff with jitter; a child that stayed up long enough starts afresh."""

    initial_s: float = 0.5
    maximum_s: float = 30.0
    healthy_after_s: float = 60.0
    failures: int = 0

    def next_delay(self, uptime_s: float) -> float:
        if uptime_s >= self.healthy_after_s:
            self.failures = 0
        self.failures += 1
        delay = min(self.maximum_s, self.initial_s * 2 ** (self.failures - 1))
        return delay * random.uniform(0.8, 1.2)


class Supervisor:
    """Runs each service as a child; a crashed child is reported and restarted, never forgotten."""

    def __init__(self, services: Sequence[ServiceSpec], *, grace_s: float = 10.0) -> None:
        self.services = list(services)
        self.grace_s = grace_s
        self.children: dict[str, asyncio.subprocess.Process] = {}
        self.stopping = asyncio.Event()
        self.restarts: dict[str, int] = {s.name: 0 for s in services}
        self.colour = sys.stdout.isatty()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        tasks = [asyncio.create_task(self._keep_running(spec)) for spec in self.services]
        await self.stopping.wait()
        log.info("stopping_services", services=[s.name for s in self.services])
        await asyncio.gather(*(self._terminate(name) for name in list(self.children)))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _keep_running(self, spec: ServiceSpec) -> None:
        backoff = Backoff()
        while not self.stopping.is_set():
            started = time.monotonic()
            code = await self._run_once(spec)
            if self.stopping.is_set():
                return
            delay = backoff.next_delay(time.monotonic() - started)
            self.restarts[spec.name] += 1
            log.warning(
                "service_crashed", service_name=spec.name, exit_code=code,
                signal=signal.Signals(-code).name if code < 0 else None,
                restart_in_s=round(delay, 2), restarts=self.restarts[spec.name],
            )
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), delay)

    async def _run_once(self, spec: ServiceSpec) -> int:
        proc = await asyncio.create_subprocess_exec(
            *spec.argv, env={**os.environ, **spec.env, "PYTHONUNBUFFERED": "1"},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL, start_new_session=True,
        )
        self.children[spec.name] = proc
        log.info("service_started", service_name=spec.name, pid=proc.pid)
        assert proc.stdout is not None
        await self._relay(spec.name, proc.stdout)
        code = await proc.wait()
        self.children.pop(spec.name, None)
        return code

    async def _relay(self, name: str, stream: asyncio.StreamReader) -> None:
        index = [s.name for s in self.services].index(name)
        prefix = f"{name:<9}| "
        if self.colour:
            prefix = f"\x1b[{COLOURS[index % len(COLOURS)]}m{prefix}\x1b[0m"
        while line := await stream.readline():
            sys.stdout.write(prefix + line.decode(errors="replace"))
            sys.stdout.flush()

    async def _terminate(self, name: str) -> None:
        proc = self.children.get(name)
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), self.grace_s)
        except TimeoutError:
            log.warning("service_killed_after_grace", service_name=name, grace_s=self.grace_s)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
