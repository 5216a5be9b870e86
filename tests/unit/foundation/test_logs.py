"""Log lines are structured, carry service and correlation id, and never carry secrets."""

import json
import logging

import pytest
import structlog

from pdm.logs import configure_logging, get_logger, redact_secrets

pytestmark = pytest.mark.unit


def test_secret_keys_are_redacted() -> None:
    event = {"event": "x", "password": "hunter2", "api_key": "k", "asset_id": "pump-1"}

    redacted = redact_secrets(None, "info", event)

    assert redacted == {"event": "x", "password": "***", "api_key": "***", "asset_id": "pump-1"}


def test_passwords_inside_connection_strings_are_redacted() -> None:
    event = {"event": "x", "dsn": "postgresql://pdm:hunter2@db:5432/pdm", "info": "password='s3' host=db"}

    redacted = redact_secrets(None, "info", event)

    assert redacted["dsn"] == "postgresql://pdm:***@db:5432/pdm"
    assert "s3" not in redacted["info"]


def test_json_lines_carry_service_and_correlation_id(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("api", fmt="json")

    get_logger("t").info("reading_accepted", asset_id="pump-7", password="nope")
    logging.getLogger("stdlib").warning("from stdlib")

    lines = [json.loads(line) for line in capsys.readouterr().err.strip().splitlines()]
    assert lines[0]["event"] == "reading_accepted" and lines[0]["service"] == "api"
    assert len(lines[0]["correlation_id"]) == 32 and lines[0]["password"] == "***"
    assert lines[1]["service"] == "api" and lines[1]["event"] == "from stdlib"
    structlog.reset_defaults()
