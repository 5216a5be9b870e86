"""Keys are random, stored only as hashes, checked in constant time, and never logged."""

import json

import pytest
import structlog

from pdm.infra.api_keys import SCOPES, UnknownScopeError, generate, parse_token
from pdm.logs import configure_logging, get_logger, redact_secrets
from pdm.settings import ConfigurationError, load_settings

pytestmark = pytest.mark.unit
PRODUCTION = {"environment": "production", "kafka": {"bootstrap_servers": "kafka:9092"},
              "postgres": {"url": "postgresql://pdm:pw@db/pdm"}}


def test_a_generated_key_proves_itself_and_nothing_else() -> None:
    token, key = generate("gateway", ["ingest"])

    key_id, secret = parse_token(token)  # type: ignore[misc]

    assert key_id == key.key_id and key.matches(secret)
    assert not key.matches(secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    assert secret.encode() not in key.secret_hash and key.scopes == {"ingest"}


def test_malformed_tokens_are_not_keys() -> None:
    for token in ("", "pdm_", "pdm_zz_secret", "Bearer x", "pdm_0123456789ab_short"):
        assert parse_token(token) is None


def test_unknown_scopes_are_refused_naming_the_valid_ones() -> None:
    with pytest.raises(UnknownScopeError, match="ingest, read, operate, admin"):
        generate("x", ["root"])
    assert set(SCOPES) == {"ingest", "read", "operate", "admin"}


def test_api_keys_inside_any_log_text_are_redacted_but_their_id_stays() -> None:
    token, key = generate("gateway", ["ingest"])
    event = {"event": "x", "header": f"Bearer {token}", "note": f"used {token} twice",
             "password": "hunter2", "dsn": "postgresql://pdm:hunter2@db/pdm"}

    redacted = redact_secrets(None, "info", event)

    assert token not in json.dumps(redacted) and "hunter2" not in json.dumps(redacted)
    assert redacted["header"] == f"Bearer pdm_{key.key_id}_***"


def test_a_log_line_with_a_key_and_a_password_reaches_the_output_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    token, _ = generate("gateway", ["read"])
    configure_logging("api", fmt="json")

    get_logger("t").warning("auth_debug", seen=f"X-API-Key: {token}", db_password="s3cret")

    line = capsys.readouterr().err
    assert token.split("_", 2)[2] not in line and "s3cret" not in line and "***" in line
    structlog.reset_defaults()


@pytest.mark.parametrize("api", [{"auth": "disabled"}, {"cors_origins": "*"}])
def test_production_refuses_disabled_auth_and_open_cors(api: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="api"):
        load_settings(**PRODUCTION, api=api)


def test_development_may_disable_auth() -> None:
    assert load_settings(api={"auth": "disabled"}).api.auth == "disabled"
