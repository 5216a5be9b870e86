"""compose.yaml and the Dockerfile checked against the code they run: commands, settings, paths."""

from __future__ import annotations

import json
import os
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import BaseModel
from typer.testing import CliRunner

from pdm.cli.main import app as pdm_cli
from pdm.settings import Settings

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "compose.yaml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
DOCKERFILE = (REPO / "Dockerfile").read_text()
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
ENV_EXAMPLE = REPO / "deploy" / "compose.env.example"

IMAGE_NAME = "pdm-maintenance"
PDM_SERVICES = sorted(
    name for name, spec in SERVICES.items() if str(spec.get("image", "")).startswith(IMAGE_NAME)
)
LONG_RUNNING = sorted(name for name, spec in SERVICES.items() if spec.get("restart") != "no")
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}; $$ is a literal dollar.
INTERPOLATION = re.compile(
    r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?])?(?P<arg>[^}]*)\}"
)
REQUIRED_SECRET = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\}$")


def environment(service: str) -> dict[str, str]:
    """A service's environment as a mapping, whether compose.yaml lists it as a list or a map."""
    env = SERVICES[service].get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def interpolate(value: str, variables: dict[str, str]) -> str:
    """What compose puts for ${...}: the variable if set (non-empty, with ':'), else the default."""
    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"] or "", match["arg"]
        value = variables.get(name)
        unset = value is None or (op.startswith(":") and value == "")
        return arg if unset and op.endswith("-") else (value or "")
    return INTERPOLATION.sub(substitute, value).replace("$$", "$")


def settings_field(variable: str) -> str | None:
    """Why a PDM_* variable is not a Settings field, or None when it is one."""
    model: type[BaseModel] = Settings
    parts = variable.removeprefix("PDM_").lower().split("__")
    for depth, part in enumerate(parts):
        fields = {name.lower(): field for name, field in model.model_fields.items()}
        if part not in fields:
            return f"{model.__name__} has no field {part!r}"
        annotation = fields[part].annotation
        is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        if depth < len(parts) - 1 and not is_model:
            return f"{model.__name__}.{part} is not a nested settings model"
        if is_model:
            model = annotation  # type: ignore[assignment]
    return None if not is_model else f"{variable} names a whole model, not a field"


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    lines = [line.strip() for line in joined.splitlines()]
    pairs = [line.split(None, 1) for line in lines if line and not line.startswith("#")]
    return [(pair[0].upper(), pair[1] if len(pair) > 1 else "") for pair in pairs]


def exec_form(instruction: str) -> list[str]:
    values = [args for name, args in dockerfile_instructions() if name == instruction]
    assert values, f"Dockerfile has no {instruction}"
    return json.loads(values[-1])


def copy_sources() -> list[str]:
    """The repository paths the Dockerfile copies (COPY --from=<stage> are not among them)."""
    sources = []
    for name, args in dockerfile_instructions():
        words = shlex.split(args)
        if name not in ("COPY", "ADD") or any(w.startswith("--from") for w in words):
            continue
        sources += [w for w in words if not w.startswith("--")][:-1]
    return sources


def healthcheck_url(service: str) -> str:
    test = SERVICES[service]["healthcheck"]["test"]
    urls = re.findall(r"https?://[^'\"\s]+", " ".join(test))
    assert len(urls) == 1, f"{service}: expected one URL in its healthcheck, found {urls}"
    return urls[0]


def run_cli(*args: str) -> int:
    return CliRunner().invoke(pdm_cli, list(args)).exit_code


def test_compose_file_has_the_pdm_services_it_documents() -> None:
    expected = {"migrate", "api", "worker"}

    found = set(PDM_SERVICES)

    assert expected <= found, f"pdm services missing from compose.yaml: {sorted(expected - found)}"


@pytest.mark.parametrize("service", PDM_SERVICES)
def test_every_pdm_service_runs_a_real_pdm_command(service: str) -> None:
    command = SERVICES[service].get("command")
    assert isinstance(command, list) and command, f"{service}: command must be a non-empty list"

    exit_code = run_cli(*command, "--help")

    assert exit_code == 0, f"{service}: `pdm {' '.join(command)} --help` exited with {exit_code}"


@pytest.mark.parametrize("service", PDM_SERVICES)
def test_every_pdm_variable_in_compose_is_a_settings_field(service: str) -> None:
    variables = [name for name in environment(service) if name.upper().startswith("PDM_")]

    problems = {name: settings_field(name) for name in variables}

    bad = {name: why for name, why in problems.items() if why}
    assert not bad, f"{service}: variables that are not pdm settings: {bad}"


@pytest.mark.parametrize("service", PDM_SERVICES)
def test_every_pdm_service_environment_loads_as_production_settings(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [name for name in os.environ if name.upper().startswith("PDM_")]:
        monkeypatch.delenv(name)
    host = {"PDM_POSTGRES_PASSWORD": "not-a-real-password"}
    for name, value in environment(service).items():
        monkeypatch.setenv(name, interpolate(value, host))

    settings = Settings()

    assert settings.environment == "production", f"{service}: PDM_ENVIRONMENT is not production"
    assert not settings.kafka.embedded, f"{service}: PDM_KAFKA__BOOTSTRAP_SERVERS is not set"
    assert not settings.postgres.embedded, f"{service}: PDM_POSTGRES__HOST is not set"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_dependency_is_a_service_with_a_start_condition(service: str) -> None:
    depends_on = SERVICES[service].get("depends_on") or {}
    assert isinstance(depends_on, dict), f"{service}: depends_on must be a map with conditions"

    unknown = sorted(target for target in depends_on if target not in SERVICES)
    unconditioned = sorted(t for t, spec in depends_on.items() if not (spec or {}).get("condition"))

    assert not unknown, f"{service}: depends_on names services that do not exist: {unknown}"
    assert not unconditioned, f"{service}: depends_on without a condition: {unconditioned}"


@pytest.mark.parametrize("service", ["api", "worker"])
def test_services_start_only_after_migrations_and_healthy_infrastructure(service: str) -> None:
    expected = {
        "kafka": "service_healthy",
        "postgres": "service_healthy",
        "migrate": "service_completed_successfully",
    }

    conditions = {t: spec["condition"] for t, spec in SERVICES[service]["depends_on"].items()}

    assert conditions == expected, f"{service}: depends_on is {conditions}, expected {expected}"


def test_migrate_runs_once_after_postgres_is_healthy() -> None:
    migrate = SERVICES["migrate"]

    condition = migrate["depends_on"]["postgres"]["condition"]

    assert migrate["restart"] == "no", "migrate: must be one-shot (restart: \"no\")"
    assert condition == "service_healthy", f"migrate: waits for postgres {condition}"


@pytest.mark.parametrize("service", LONG_RUNNING)
def test_every_long_running_service_has_a_healthcheck(service: str) -> None:
    healthcheck = SERVICES[service].get("healthcheck") or {}

    test = healthcheck.get("test")

    assert test and not healthcheck.get("disable"), f"{service}: no healthcheck"


@pytest.mark.parametrize(
    ("service", "port_variable", "path"),
    [("api", "PDM_API__PORT", "/readyz"), ("worker", "PDM_WORKER__WEB_PORT", "/healthz")],
)
def test_healthchecks_probe_the_port_the_service_listens_on(
    service: str, port_variable: str, path: str
) -> None:
    url = urlsplit(healthcheck_url(service))

    listening = environment(service).get(port_variable)

    assert str(url.port) == listening, (
        f"{service}: probes port {url.port} but {port_variable}={listening}"
    )
    assert url.path == path, f"{service}: probes {url.path}, expected {path}"


def test_published_api_port_is_the_port_the_api_listens_on() -> None:
    ports = [str(port) for port in SERVICES["api"].get("ports", [])]

    container_ports = {port.rsplit(":", 1)[-1].split("/")[0] for port in ports}

    listening = environment("api")["PDM_API__PORT"]
    assert container_ports == {listening}, f"api: publishes {ports}, listens on {listening}"


def test_dockerfile_copies_only_paths_that_exist() -> None:
    sources = copy_sources()

    missing = [source for source in sources if not (REPO / source).exists()]

    assert sources, "Dockerfile: copies nothing from the repository"
    assert not missing, f"Dockerfile: COPY sources missing from the repository: {missing}"


def test_dockerfile_copies_everything_the_wheel_packages() -> None:
    wheel = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]
    packaged = [*wheel["packages"], *wheel.get("force-include", {}), PYPROJECT["project"]["readme"]]

    sources = [Path(source) for source in copy_sources()]

    missing = [p for p in packaged if not any(Path(p).is_relative_to(s) for s in sources)]
    assert not missing, f"Dockerfile: the wheel build needs paths it never copies: {missing}"


def test_image_entrypoint_is_the_pdm_console_script() -> None:
    scripts = PYPROJECT["project"]["scripts"]

    entrypoint = exec_form("ENTRYPOINT")

    assert entrypoint == ["pdm"], f"Dockerfile: ENTRYPOINT is {entrypoint}, expected ['pdm']"
    assert "pdm" in scripts, "pyproject.toml: [project.scripts] declares no `pdm`"


def test_image_default_command_is_a_real_pdm_command() -> None:
    command = exec_form("CMD")

    exit_code = run_cli(*command, "--help")

    assert exit_code == 0, f"Dockerfile: CMD {command} is not a pdm command (exit {exit_code})"


def test_image_runs_as_a_non_root_user_in_production_mode() -> None:
    instructions = dockerfile_instructions()

    user = [args for name, args in instructions if name == "USER"][-1].split(":")[0]
    env = " ".join(args for name, args in instructions if name == "ENV")

    assert user not in ("root", "0"), f"Dockerfile: runs as {user}"
    assert "PDM_ENVIRONMENT=production" in env, "Dockerfile: PDM_ENVIRONMENT is not production"
    assert "PYTHONUNBUFFERED=1" in env, "Dockerfile: PYTHONUNBUFFERED is not 1"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_no_service_hard_codes_a_password(service: str) -> None:
    passwords = {k: v for k, v in environment(service).items() if "PASSWORD" in k.upper()}

    hard_coded = sorted(k for k, value in passwords.items() if not REQUIRED_SECRET.match(value))

    assert not hard_coded, (
        f"{service}: {hard_coded} must be ${{VAR:?message}} substitutions with no default"
    )


def test_every_compose_variable_is_listed_in_the_example_env_file() -> None:
    listed = {
        line.split("=", 1)[0].strip()
        for line in ENV_EXAMPLE.read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }

    used = {match["name"] for match in INTERPOLATION.finditer((REPO / "compose.yaml").read_text())}

    missing = sorted(used - listed)
    assert not missing, f"deploy/compose.env.example does not list: {missing}"


def test_worker_can_scale_without_port_or_name_collisions() -> None:
    worker = SERVICES["worker"]

    replicas = (worker.get("deploy") or {}).get("replicas", 1)

    assert "ports" not in worker, f"worker: publishes {worker['ports']}; replicas would collide"
    assert "container_name" not in worker, "worker: container_name stops it from scaling"
    assert replicas >= 2, f"worker: runs {replicas} replica(s); expected at least 2"
