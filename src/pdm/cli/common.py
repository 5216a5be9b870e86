"""What every command shares: settings loaded once, logging configured, errors as one line."""

from __future__ import annotations

import sys
from typing import NoReturn

from rich.console import Console

from pdm.logs import configure_logging
from pdm.settings import ConfigurationError, Settings, load_settings

err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise SystemExit(code)


def service_settings(service: str) -> Settings:
    """Settings for a process, or a one-line error naming the bad variable and exit code 2."""
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        fail(f"invalid configuration: {exc}")
    configure_logging(service, settings.log_format, settings.log_level)
    return settings


def require_infrastructure(settings: Settings, what: str) -> None:
    if settings.kafka.embedded and what in ("kafka", "both"):
        fail("PDM_KAFKA__BOOTSTRAP_SERVERS is not set; run under `pdm up` or set it")
    if settings.postgres.embedded and what in ("postgres", "both"):
        fail("PDM_POSTGRES__URL (or PDM_POSTGRES__HOST) is not set; run under `pdm up` or set it")


def python() -> str:
    return sys.executable
