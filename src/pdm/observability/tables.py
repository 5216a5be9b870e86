"""Collectors that read a service's durable numbers from its tables at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from pdm.infra.database import DatabaseUnavailableError, connect
from pdm.logs import get_logger

log = get_logger(__name__)


class TableCollector(Collector):
    """One short connection per scrape (every ~15 s): cheaper than instrumenting a service's loop,
    and the numbers are the durable ones, not a process's memory of them. A database that does not
    answer costs one scrape's numbers, never the service."""

    service = "service"

    def __init__(self, conninfo: str, schema: str) -> None:
        self.conninfo, self.schema = conninfo, schema

    def collect(self) -> Iterator[Metric]:
        try:
            with connect(self.conninfo, self.schema, autocommit=True,
                         application_name=f"pdm-{self.service}-metrics") as conn:
                yield from self._collect(conn)
        except (DatabaseUnavailableError, psycopg.Error) as exc:
            log.warning(f"{self.service}_metrics_unavailable", error=str(exc)[:200])

    def _collect(self, conn: psycopg.Connection) -> Iterator[Metric]:
        raise NotImplementedError
