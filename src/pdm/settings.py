"""Process settings: one pydantic-settings object read from PDM_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "PDM_"


class ConfigurationError(Exception):
    """A setting is missing, malformed or unusable; the message names the variable."""


class KafkaSettings(BaseModel):
    """Kafka client settings; no bootstrap servers means the embedded broker is started."""

    bootstrap_servers: str | None = None
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    partitions: int = Field(default=8, ge=1, le=1024)
    replication_factor: int = Field(default=1, ge=1, le=7)
    # Short session timeouts make consumer-group joins take ~3 s instead of ~30 s on Tansu,
    # which holds each JoinGroup reply until half the session timeout has passed.
    session_timeout_ms: int = Field(default=6000, ge=1000)
    heartbeat_interval_ms: int = Field(default=1000, ge=100)
    topic_prefix: str = ""
    # Longest a publish (connect included) waits for the broker's acknowledgement; the API then
    # answers 503 with Retry-After, so a dead or stalled broker never hangs a request.
    publish_timeout_s: float = Field(default=10.0, gt=0, le=120)
    # How pdm's own producers (API, `pdm publish`, `pdm simulate`) write reading batches and frames
    # to pdm.readings.v1: `binary` (raw arrays, docs/contracts.md) decodes ~2x faster in the worker
    # than `json`; consumers accept both, so the choice only matters to other readers of the topic.
    reading_encoding: Literal["binary", "json"] = "binary"

    @field_validator("bootstrap_servers")
    @classmethod
    def _hosts_have_ports(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        for server in value.split(","):
            host, sep, port = server.strip().rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"expected host:port[,host:port…], got {server.strip()!r}")
        return value

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> KafkaSettings:
        if self.security_protocol.startswith("SASL") and not (
            self.sasl_mechanism and self.sasl_username and self.sasl_password
        ):
            raise ValueError("SASL needs sasl_mechanism, sasl_username and sasl_password")
        return self

    @property
    def embedded(self) -> bool:
        return self.bootstrap_servers is None

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"


class PostgresSettings(BaseModel):
    """PostgreSQL settings; no url and no host means the embedded server is started."""

    url: SecretStr | None = None
    host: str | None = None
    port: int = Field(default=5432, ge=1, le=65535)
    user: str = "postgres"
    password: SecretStr | None = None
    database: str = "postgres"
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = "prefer"
    schema_name: str = Field(default="public", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    # A role that may read the read models (rm_* tables, projection_tracking) and nothing else,
    # e.g. for Grafana: `pdm migrate` grants it SELECT on them when the role exists (a DBA creates
    # it; compose.yaml's PostgreSQL does on first start). Empty: grant nothing.
    reader_role: str = Field(default="pdm_read_models", pattern=r"^([a-z_][a-z0-9_]{0,62})?$")
    pool_max_size: int = Field(default=10, ge=1, le=200)
    # How long a request waits for a pooled connection before answering 503: bounds the wait
    # when the server is down or the pool is saturated, instead of queueing without limit.
    pool_timeout_s: float = Field(default=5.0, gt=0, le=120)

    @field_validator("url")
    @classmethod
    def _url_is_postgres(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in ("postgresql", "postgres"):
            raise ValueError("expected a postgresql://user:password@host:port/database URL")
        return value

    @property
    def embedded(self) -> bool:
        return self.url is None and self.host is None

    def conninfo(self) -> str:
        """The libpq connection string; the password stays out of logs by never logging it."""
        if self.url is not None:
            return self.url.get_secret_value()
        if self.host is None:
            raise ConfigurationError("PDM_POSTGRES__URL or PDM_POSTGRES__HOST: not set")
        password = self.password.get_secret_value() if self.password else ""
        fields = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": password,
            "dbname": self.database,
            "sslmode": self.sslmode,
        }
        return " ".join(f"{k}={_quote(str(v))}" for k, v in fields.items() if v != "")


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


class RateLimits(BaseModel):
    """Requests per second per API key and scope; 0 means unlimited."""

    ingest: float = Field(default=500.0, ge=0)
    read: float = Field(default=100.0, ge=0)
    operate: float = Field(default=20.0, ge=0)
    admin: float = Field(default=5.0, ge=0)


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # uvicorn worker processes; each has its own read pool, key cache and rate-limit buckets.
    workers: int = Field(default=1, ge=1, le=32)
    max_batch_readings: int = Field(default=10_000, ge=1, le=1_000_000)
    auth: Literal["required", "disabled"] = "required"
    # Revocations take effect within this many seconds; auth costs no query per request.
    key_cache_s: float = Field(default=5.0, ge=0, le=300)
    rate_limits: RateLimits = RateLimits()
    rate_burst_s: float = Field(default=2.0, gt=0, le=60)
    # Comma-separated origins allowed by CORS; empty (the default) allows none.
    cors_origins: str = ""
    # One request body at most (after gzip); larger ones are refused with 413.
    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024, le=1024**3)
    # Bytes of reading bodies held at once (received, parsed or awaiting the broker's ack);
    # beyond it POST /v1/readings answers 503 `ingest_overloaded` with Retry-After.
    ingest_max_inflight_bytes: int = Field(default=128 * 1024 * 1024, ge=1024)
    # Query statements are cancelled after this long (503 `query_timeout`), so one slow query
    # cannot hold a read-pool connection for ever. 0 disables the limit.
    query_timeout_s: float = Field(default=30.0, ge=0, le=3600)
    # Open /v1/live streams at once (each polls the read pool); more answer 503.
    live_max_streams: int = Field(default=200, ge=1, le=100_000)
    # Threads running event-store calls (commands and event-store reads), apart from the default
    # pool that key loading, health checks and DNS lookups share; more would only wait on the
    # event store's pool (at most 5 connections).
    command_threads: int = Field(default=5, ge=1, le=64)
    # Event-store calls waiting for a thread; beyond them 503 `commands_overloaded`.
    command_max_queued: int = Field(default=50, ge=0, le=10_000)
    # Open HTTP connections served per process (uvicorn's `limit_concurrency`); a request on one
    # more answers 503 `connections_exhausted` with Retry-After and that connection closes. 0: none.
    max_connections: int = Field(default=1000, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _one_body_fits_the_budget(self) -> ApiSettings:
        if self.ingest_max_inflight_bytes < self.max_body_bytes:
            raise ValueError("ingest_max_inflight_bytes must be at least max_body_bytes, "
                             "or a request of the largest allowed size could never be admitted")
        return self

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]


class WorkerSettings(BaseModel):
    web_port: int = Field(default=6066, ge=0, le=65535)
    batch_size: int = Field(default=500, ge=1, le=100_000)
    batch_within_s: float = Field(default=0.05, gt=0, le=10)
    # Readings older than the asset's newest minus this are archived but flagged late.
    allowed_lateness_ms: int = Field(default=60_000, ge=0)
    # Messages per archive transaction: bigger batches COPY faster, smaller ones commit sooner.
    gate_max_records: int = Field(default=2000, ge=1, le=100_000)
    # Anomalies whose onset is older than this (by the worker's clock) are recorded as
    # historical alerts, raised already suppressed: backfilled history pages nobody.
    page_horizon_s: float = Field(default=3600, gt=0)
    # Where the scoring tables live between changelog writes: `rocksdb` (rocksdict, under
    # PDM_DATA_DIR/worker) restarts from its local copy plus the changelog's tail; `memory`
    # replays the whole changelog on every start. `auto`: rocksdb in production, memory otherwise.
    store: Literal["auto", "memory", "rocksdb"] = "auto"


class ProjectorSettings(BaseModel):
    metrics_port: int = Field(default=6067, ge=0, le=65535)  # 0: no /metrics


class SagaSettings(BaseModel):
    metrics_port: int = Field(default=6068, ge=0, le=65535)  # 0: no /metrics


class Settings(BaseSettings):
    """Everything a pdm process can be told, validated once at start."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="ignore", frozen=True
    )

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path(".pdm-data")
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    kafka: KafkaSettings = KafkaSettings()
    postgres: PostgresSettings = PostgresSettings()
    api: ApiSettings = ApiSettings()
    worker: WorkerSettings = WorkerSettings()
    projector: ProjectorSettings = ProjectorSettings()
    saga: SagaSettings = SagaSettings()

    @model_validator(mode="after")
    def _production_refuses_embedded_and_insecure(self) -> Settings:
        if self.environment != "production":
            return self
        if self.kafka.embedded:
            raise ValueError("kafka.bootstrap_servers must be set in production")
        if self.postgres.embedded:
            raise ValueError("postgres.url or postgres.host must be set in production")
        if self.postgres.url is None and not self.postgres.password:
            raise ValueError("postgres.password must be set in production")
        if self.api.auth == "disabled":
            raise ValueError("api.auth cannot be disabled in production")
        if "*" in self.api.cors_origin_list:
            raise ValueError("api.cors_origins cannot be * in production; list the origins")
        return self


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, turning validation errors into one clear line each."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigurationError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"] if not str(part).startswith("function-")]
        variable = ENV_PREFIX + "__".join(part.upper() for part in loc) if loc else ENV_PREFIX + "*"
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"{variable}: {message}")
    return "; ".join(lines)
