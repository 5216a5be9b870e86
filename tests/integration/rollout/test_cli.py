"""`pdm rollout` and `pdm retrain --rollout` as an operator runs them, on the real event store."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import timedelta
from uuid import UUID

import pytest
from typer.testing import CliRunner

from pdm.cli.main import app as pdm_cli
from pdm.domain.application import PdmApplication
from pdm.settings import Settings
from pdm.simulation import Simulator
from tests.conftest import settings_env
from tests.integration.replay.conftest import START, simulated_rows, write_rows
from tests.integration.rollout.conftest import BASELINE, record_candidate, serve_fleet

pytestmark = pytest.mark.integration
END = START + timedelta(minutes=40)
TRAIN = ("retrain", "--from", START.isoformat(), "--to", END.isoformat(), "--algorithm", "pca",
         "--holdout", "10m")
BASE = f"{BASELINE[0]}@{BASELINE[1]}"


def pdm(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pdm", *args], env=settings_env(settings),
                          capture_output=True, text=True, timeout=180)


def test_retrain_with_rollout_records_the_model_and_starts_its_rollout_with_the_policy(
    event_store: Settings, domain: PdmApplication,
) -> None:
    write_rows(event_store, simulated_rows(Simulator(2, rate_hz=1.0, seed=5, start=START), END - START))

    done = pdm(event_store, *TRAIN, "--rollout", "--baseline", BASE, "--set", "shadow_s=60",
               "--set", "canary_fraction=0.5")
    again = pdm(event_store, *TRAIN, "--rollout", "--baseline", BASE, "--set", "shadow_s=60",
                "--set", "canary_fraction=0.5")

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    rollout = domain.get_rollout(UUID(report["rollout_id"]))
    assert rollout.candidate == (f"trained-{report['artifact_hash'][:12]}", report["artifact_hash"])
    assert rollout.baseline == BASELINE and rollout.state == "started"
    assert rollout.policy.shadow_s == 60 and rollout.policy.canary_fraction == 0.5
    assert domain.get_model_version(report["artifact_hash"]).record.metrics  # recorded before the rollout
    assert again.returncode == 0, again.stderr  # the same training again: the same rollout, no refusal
    assert json.loads(again.stdout)["rollout_id"] == report["rollout_id"]


@pytest.mark.parametrize(("args", "message"), [
    (("--rollout",), "--rollout needs --baseline"),
    (("--rollout", "--baseline", "novelty-v1"), "--baseline is VERSION@HASH"),
    (("--rollout", "--baseline", BASE, "--set", "canary_fracton=0.5"), "unknown policy fields: canary_fracton"),
    (("--rollout", "--baseline", BASE, "--dry-run"), "cannot go with --dry-run"),
    (("--baseline", BASE), "only go with --rollout"),
])
def test_retrain_refuses_a_bad_rollout_request_before_training(
    event_store: Settings, args: tuple[str, ...], message: str,
) -> None:
    result = CliRunner().invoke(pdm_cli, [*TRAIN, *args], env=settings_env(event_store))

    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


def test_rollout_start_while_another_is_active_fails_naming_the_active_rollout(
    event_store: Settings, domain: PdmApplication,
) -> None:
    first, second = (record_candidate(domain, name) for name in ("pca-a", "pca-b"))
    env = settings_env(event_store)

    started = CliRunner().invoke(pdm_cli, ["rollout", "start", "@".join(first), "--baseline", BASE], env=env)
    refused = CliRunner().invoke(pdm_cli, ["rollout", "start", "@".join(second), "--baseline", BASE], env=env)

    assert started.exit_code == 0, started.output
    active = json.loads(started.stdout)["rollout_id"]
    assert refused.exit_code == 1
    assert f"rollout {active} is still active" in " ".join(refused.output.split())
    assert "rollout_active" in refused.output


def test_rollout_start_against_a_baseline_that_is_not_serving_fails_in_one_line_naming_both(
    event_store: Settings, domain: PdmApplication,
) -> None:
    serving, candidate = (record_candidate(domain, name) for name in ("pca-serving", "pca-next"))
    asyncio.run(serve_fleet(event_store, serving))
    env = settings_env(event_store)

    refused = CliRunner().invoke(pdm_cli, ["rollout", "start", "@".join(candidate), "--baseline", BASE], env=env)
    started = CliRunner().invoke(pdm_cli, ["rollout", "start", "@".join(candidate), "--baseline",
                                           "@".join(serving)], env=env)

    assert refused.exit_code == 1, refused.output
    assert len(refused.output.strip().splitlines()) == 1, refused.output
    assert f"baseline {BASE} is not serving" in refused.output and "@".join(serving) in refused.output
    assert "baseline_not_serving" in refused.output
    assert started.exit_code == 0, started.output


def test_retrain_with_rollout_against_a_baseline_that_is_not_serving_fails_before_training(
    event_store: Settings,
) -> None:
    stale = "novelty-v1@" + "b" * 64  # nothing deployed to "*": the built-in model serves

    result = CliRunner().invoke(pdm_cli, [*TRAIN, "--rollout", "--baseline", stale], env=settings_env(event_store))

    assert result.exit_code == 1, result.output  # not 2: no "no archived readings", nothing was replayed
    assert f"baseline {stale} is not serving" in result.output and "baseline_not_serving" in result.output
