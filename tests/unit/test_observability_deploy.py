"""The Prometheus scrape config and the Grafana dashboard checked against the code: every metric
the dashboard plots is one a service exports, every service's metrics port is scraped, every
read-model table a panel queries exists."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from pdm.api.app import create_app
from pdm.observability import projector, saga
from pdm.observability.metrics import StatsCollector
from pdm.observability.projector import ProjectorCollector
from pdm.observability.saga import SagaCollector
from pdm.settings import PostgresSettings, Settings
from streams.alerting import AlerterStats
from streams.gate import GateStats
from streams.offsets import OffsetStats
from streams.scoring import ScoringStats
from tests.unit.test_compose import SERVICES, environment

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
PROMETHEUS = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
RULES = [rule for group in yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())["groups"]
         for rule in group["rules"]]
DATASOURCES = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "datasources" / "datasources.yml").read_text())
# Where each pdm service serves /metrics: the settings variable holding the port.
METRICS_PORT = {"api": "PDM_API__PORT", "worker": "PDM_WORKER__WEB_PORT",
                "projector": "PDM_PROJECTOR__METRICS_PORT", "saga": "PDM_SAGA__METRICS_PORT"}
# Not pdm's: Prometheus' own `up`, and the consumer-group series of kafka-exporter (compose.yaml).
FOREIGN = {"up", "kafka_consumergroup_lag", "kafka_consumergroup_lag_sum", "kafka_consumergroup_current_offset"}
METRIC = re.compile(r"\b(?:pdm|process|kafka)_[a-z0-9_]+\b|\bup\b")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}


class FakeConnection:
    """Answers each collector query with one plausible row: enough for the families to appear."""

    ROWS: dict[str, list[tuple[Any, ...]]] = {
        projector.POSITIONS: [("alerts", 7)], projector.PARKED: [("alerts", 1)],
        projector.TIMERS: [("escalate", 1, 2)], saga.POSITION: [(3,)], saga.ROLLOUTS: [(1, 2)],
        saga.DEADLINES: [(0,)],
    }

    def execute(self, query: str) -> FakeConnection:
        self.rows = self.ROWS[query]
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def fetchone(self) -> tuple[Any, ...]:
        return self.rows[0]


class Fixed(Collector):
    def __init__(self, metrics: Iterator[Metric]) -> None:
        self.metrics = list(metrics)

    def collect(self) -> Iterator[Metric]:
        return iter(self.metrics)


def exposed_names(registry: CollectorRegistry) -> set[str]:
    """Series names as Prometheus stores them; a labelled family with no sample yet (no request
    answered) still counts, under the names its type gives it."""
    names = set()
    for family in registry.collect():
        names |= {sample.name for sample in family.samples}
        names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
    return names


def exported_metrics() -> set[str]:
    app = create_app(Settings(postgres=PostgresSettings(host="postgres")))
    registry = CollectorRegistry()
    # The worker's collectors exactly as streams.app registers them.
    for prefix, stats in (("gate", GateStats()), ("scoring", ScoringStats()), ("offsets", OffsetStats()),
                          ("alerting", AlerterStats())):
        registry.register(StatsCollector(f"pdm_worker_{prefix}", lambda s=stats: asdict(s), prefix))
    registry.register(Fixed(ProjectorCollector("", "public", lambda: 9)._collect(FakeConnection())))
    registry.register(Fixed(SagaCollector("", "public")._collect(FakeConnection())))  # type: ignore[arg-type]
    return exposed_names(app.state.metrics.registry) | exposed_names(registry)


def panels(dashboard: Path) -> list[dict[str, Any]]:
    found = json.loads(dashboard.read_text())["panels"]
    return [p for p in found + [c for p in found for c in p.get("panels", [])] if p.get("targets")]


def expressions(dashboard: Path) -> list[str]:
    return [t["expr"] for p in panels(dashboard) for t in p["targets"] if "expr" in t]


def metrics_in(expr: str) -> set[str]:
    without_matchers = re.sub(r"\{[^}]*\}", "", expr)  # label values may look like names
    return set(METRIC.findall(without_matchers))


def scrape_targets() -> dict[str, set[int]]:
    """Host name → ports Prometheus scrapes on it."""
    targets: dict[str, set[int]] = {}
    for job in PROMETHEUS["scrape_configs"]:
        for sd in job.get("dns_sd_configs", []):
            for name in sd["names"]:
                targets.setdefault(name, set()).add(int(sd["port"]))
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                host, port = target.rsplit(":", 1)
                targets.setdefault(host, set()).add(int(port))
    return targets


def test_there_is_a_dashboard() -> None:
    assert DASHBOARDS, "deploy/grafana/dashboards holds no dashboard"


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=lambda p: p.name)
def test_every_metric_a_dashboard_plots_is_exported_by_a_service(dashboard: Path) -> None:
    exported = exported_metrics() | FOREIGN

    used = {expr: metrics_in(expr) for expr in expressions(dashboard)}

    assert all(used.values()), f"expressions naming no metric: {[e for e, m in used.items() if not m]}"
    unknown = {expr: sorted(names - exported) for expr, names in used.items() if names - exported}
    assert not unknown, f"{dashboard.name}: metrics nothing exports: {unknown}"


def test_the_overview_covers_throughput_lag_errors_dead_letters_alerts_and_rollouts() -> None:
    plotted = " ".join(expressions(DEPLOY / "grafana" / "dashboards" / "pdm-overview.json"))

    required = ["pdm_readings_accepted_total", "pdm_worker_gate_readings_archived_total",
                "kafka_consumergroup_lag", "pdm_projection_lag_events", "pdm_worker_gate_dead_lettered_total",
                "pdm_worker_alerting_outcomes_total", "pdm_saga_rollouts", 'status=~"5.."',
                "pdm_http_request_duration_seconds_bucket", "pdm_timers_pending"]

    assert [r for r in required if r not in plotted] == []


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=lambda p: p.name)
def test_read_model_panels_query_tables_the_migrations_create(dashboard: Path) -> None:
    created = set(re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)",
                             " ".join(p.read_text() for p in (REPO / "migrations").glob("*.sql"))))
    queries = [t["rawSql"] for p in panels(dashboard) for t in p["targets"] if "rawSql" in t]

    used = {table for sql in queries for table in re.findall(r"\b(?:FROM|JOIN)\s+(\w+)", sql)}

    assert queries, f"{dashboard.name}: no read-model panel"
    assert used - created == set(), f"{dashboard.name}: tables no migration creates: {used - created}"


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=lambda p: p.name)
def test_every_panel_uses_a_provisioned_datasource(dashboard: Path) -> None:
    provisioned = {source["uid"] for source in DATASOURCES["datasources"]}

    used = {t["datasource"]["uid"] for p in panels(dashboard) for t in p["targets"]}

    assert used <= provisioned, f"{dashboard.name}: datasources not provisioned: {used - provisioned}"


@pytest.mark.parametrize("service", sorted(METRICS_PORT))
def test_every_service_metrics_port_is_scraped(service: str) -> None:
    port = environment(service).get(METRICS_PORT[service])

    scraped = scrape_targets().get(service, set())

    assert port, f"{service}: compose.yaml does not set {METRICS_PORT[service]}"
    assert int(port) in scraped, f"{service}: serves /metrics on {port}, Prometheus scrapes {scraped or 'nothing'}"


def test_every_long_running_pdm_service_has_a_known_metrics_port() -> None:
    long_running = {name for name, spec in SERVICES.items()
                    if str(spec.get("image", "")).startswith("pdm-maintenance") and spec.get("restart") != "no"}

    assert long_running - set(METRICS_PORT) == set(), "a pdm service whose metrics nobody scrapes"


def test_kafka_consumer_lag_comes_from_the_exporter_compose_runs() -> None:
    command = " ".join(SERVICES["kafka-exporter"]["command"])

    assert "--kafka.server=kafka:9092" in command
    assert 9308 in scrape_targets().get("kafka-exporter", set())


@pytest.mark.parametrize("service", ["prometheus", "grafana"])
def test_observability_services_mount_files_that_exist(service: str) -> None:
    mounts = [v.split(":")[0] for v in SERVICES[service]["volumes"] if v.startswith("./")]

    missing = [m for m in mounts if not (REPO / m).exists()]

    assert mounts and missing == [], f"{service}: mounts missing from the repository: {missing}"


def test_grafana_gets_every_variable_its_datasources_read() -> None:
    lines = (DEPLOY / "grafana" / "provisioning" / "datasources" / "datasources.yml").read_text().splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))

    wanted = set(re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", text))

    assert wanted - set(environment("grafana")) == set()


def test_grafana_reads_postgres_as_a_login_that_may_read_the_read_models_only() -> None:
    """The datasource's user is the one deploy/postgres/initdb creates, a member of the role
    `pdm migrate` grants the read models to (PostgresSettings.reader_role), not pdm's own user."""
    source = next(d for d in DATASOURCES["datasources"] if d["type"].endswith("postgresql-datasource"))
    init = DEPLOY / "postgres" / "initdb" / "10-read-models-reader.sh"
    script, reader = init.read_text(), PostgresSettings().reader_role
    postgres_mounts = [v.split(":") for v in SERVICES["postgres"]["volumes"] if v.startswith("./")]
    user = source["user"]

    assert user not in (environment("postgres")["POSTGRES_USER"], "${PDM_POSTGRES_USER:-pdm}", "postgres")
    assert f"CREATE ROLE {reader} NOLOGIN;" in script
    assert f"CREATE ROLE {user} LOGIN PASSWORD :'reader_password' IN ROLE {reader};" in script
    assert postgres_mounts == [["./deploy/postgres/initdb", "/docker-entrypoint-initdb.d", "ro"]]
    assert init.stat().st_mode & 0o111, "the entrypoint runs executable scripts; others are sourced"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r["alert"])
def test_every_alert_rule_uses_exported_metrics_and_says_who_and_why(rule: dict[str, Any]) -> None:
    expr, annotations = rule["expr"], rule["annotations"]
    grouped = {label.strip() for by in re.findall(r"by \(([^)]*)\)", expr) for label in by.split(",")}
    templated = set(re.findall(r"\$labels\.(\w+)", annotations["summary"] + annotations["description"]))

    assert metrics_in(expr) and metrics_in(expr) <= exported_metrics() | FOREIGN, expr
    assert expr.count("(") == expr.count(")") and expr.count("{") == expr.count("}"), expr
    assert rule["alert"].startswith("Pdm") and rule["labels"]["severity"] in ("page", "ticket")
    assert annotations["summary"] and len(annotations["description"]) > 40
    assert re.fullmatch(r"\d+[smh]", rule.get("for", "0s")), rule.get("for")
    if re.search(r"\b(?:sum|max|min|avg|count)\b", expr):  # an aggregation keeps only its `by` labels
        assert templated <= grouped, f"{rule['alert']}: {templated - grouped} are not labels of its result"


def test_prometheus_loads_the_alert_rules_compose_mounts() -> None:
    mounts = dict(v.rsplit(":", 1)[0].split(":") for v in SERVICES["prometheus"]["volumes"] if v.startswith("./"))

    assert PROMETHEUS["rule_files"] == ["/etc/prometheus/alerts.yml"]
    assert mounts["./deploy/prometheus/alerts.yml"] == "/etc/prometheus/alerts.yml"
    assert {"PdmTargetDown", "PdmConsumerLagHigh", "PdmScoringStalled", "PdmReadingsDeadLettered",
            "PdmProjectionEventsParked", "PdmAdmissionRefusing"} <= {r["alert"] for r in RULES}
