"""The Faust worker connects with the same TLS and SASL settings as pdm's aiokafka clients."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import certifi
import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from pdm.infra.kafka import client_options
from pdm.settings import KafkaSettings, PostgresSettings, Settings
from streams.app import create_app

pytestmark = pytest.mark.unit


def worker_auth(tmp_path: Path, **kafka: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what Faust hands its aiokafka consumer/producer/admin, what pdm's own clients use)."""
    settings = Settings(data_dir=tmp_path, kafka=KafkaSettings(bootstrap_servers="kafka-1:9093", **kafka),
                        postgres=PostgresSettings(host="postgres"))  # built, never connected
    app = create_app(settings)
    faust_options = dict(credentials_to_aiokafka_auth(app.conf.broker_credentials, app.conf.ssl_context))
    pdm_options = client_options(settings.kafka)
    pdm_options.pop("bootstrap_servers")
    return faust_options, pdm_options


def test_sasl_ssl_with_scram_reaches_the_faust_clients_as_the_aiokafka_clients_get_it(tmp_path: Path) -> None:
    faust_options, pdm_options = worker_auth(
        tmp_path, security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
        sasl_username="pdm-worker", sasl_password="not-a-real-password", ssl_cafile=certifi.where())

    context = faust_options.pop("ssl_context")

    assert faust_options == {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
                             "sasl_plain_username": "pdm-worker",
                             "sasl_plain_password": "not-a-real-password"}
    assert faust_options == {k: v for k, v in pdm_options.items() if k != "ssl_context"}
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0  # the configured CA file was loaded


def test_sasl_over_plaintext_sends_no_tls_context(tmp_path: Path) -> None:
    faust_options, pdm_options = worker_auth(
        tmp_path, security_protocol="SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-256",
        sasl_username="pdm-worker", sasl_password="not-a-real-password")

    assert faust_options["security_protocol"] == pdm_options["security_protocol"] == "SASL_PLAINTEXT"
    assert faust_options["sasl_mechanism"] == "SCRAM-SHA-256"
    assert faust_options["ssl_context"] is None


def test_tls_without_sasl_verifies_the_broker(tmp_path: Path) -> None:
    faust_options, _ = worker_auth(tmp_path, security_protocol="SSL", ssl_cafile=certifi.where())

    assert faust_options["security_protocol"] == "SSL"
    assert faust_options["ssl_context"].verify_mode is ssl.CERT_REQUIRED
    assert "sasl_mechanism" not in faust_options


def test_plaintext_stays_plaintext(tmp_path: Path) -> None:
    faust_options, pdm_options = worker_auth(tmp_path)

    assert faust_options == pdm_options == {"security_protocol": "PLAINTEXT"}
