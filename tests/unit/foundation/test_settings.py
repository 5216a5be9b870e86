"""Settings come from PDM_* variables and fail with one line naming the bad variable."""

import pytest

from pdm.settings import ConfigurationError, load_settings

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("PDM_"):
            monkeypatch.delenv(key)


def test_nested_variables_reach_nested_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PDM_KAFKA__BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    monkeypatch.setenv("PDM_POSTGRES__HOST", "db")
    monkeypatch.setenv("PDM_POSTGRES__PORT", "6543")

    settings = load_settings()

    assert settings.kafka.bootstrap_servers == "k1:9092,k2:9092"
    assert settings.postgres.port == 6543
    assert not settings.kafka.embedded and not settings.postgres.embedded


def test_nothing_configured_means_embedded_infrastructure() -> None:
    settings = load_settings()

    assert settings.kafka.embedded and settings.postgres.embedded


def test_malformed_port_is_named_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PDM_POSTGRES__PORT", "five")

    with pytest.raises(ConfigurationError) as caught:
        load_settings()

    assert str(caught.value).startswith("PDM_POSTGRES__PORT: ")
    assert "\n" not in str(caught.value)


def test_malformed_database_url_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PDM_POSTGRES__URL", "mysql://root@db/x")

    with pytest.raises(ConfigurationError, match=r"^PDM_POSTGRES__URL: expected a postgresql://"):
        load_settings()


def test_bootstrap_server_without_port_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PDM_KAFKA__BOOTSTRAP_SERVERS", "kafka")

    with pytest.raises(ConfigurationError, match=r"^PDM_KAFKA__BOOTSTRAP_SERVERS: expected host:port"):
        load_settings()


def test_production_refuses_embedded_infrastructure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PDM_ENVIRONMENT", "production")

    with pytest.raises(ConfigurationError, match=r"bootstrap_servers must be set in production"):
        load_settings()


def test_production_refuses_database_without_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PDM_ENVIRONMENT", "production")
    monkeypatch.setenv("PDM_KAFKA__BOOTSTRAP_SERVERS", "kafka:9092")
    monkeypatch.setenv("PDM_POSTGRES__HOST", "db")

    with pytest.raises(ConfigurationError, match=r"postgres\.password must be set"):
        load_settings()


def test_password_never_appears_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PDM_POSTGRES__HOST", "db")
    monkeypatch.setenv("PDM_POSTGRES__PASSWORD", "hunter2-secret")

    settings = load_settings()

    assert "hunter2-secret" not in repr(settings)
    assert "password='hunter2-secret'" in settings.postgres.conninfo()


def test_sasl_without_credentials_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PDM_KAFKA__SECURITY_PROTOCOL", "SASL_SSL")

    with pytest.raises(ConfigurationError, match=r"^PDM_KAFKA: SASL needs"):
        load_settings()
