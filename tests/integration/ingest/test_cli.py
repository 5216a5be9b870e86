"""`pdm publish` and `pdm simulate` as a user runs them: every valid reading archived exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from pdm.infra.broker import free_port
from pdm.infra.migrations import migrate
from pdm.settings import Settings
from tests.conftest import settings_env
from tests.integration.conftest import WorkerProcess, archive_count, archive_duplicates, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def migrated(settings: Settings) -> Settings:
    migrate(settings.postgres.conninfo(), settings.postgres.schema_name)
    return settings


def pdm(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pdm", *args], env={**settings_env(settings), **env},
                          capture_output=True, text=True, timeout=120)


def write_csv(path: Path, rows: int, start_ms: int) -> Path:
    lines = ["timestamp,asset_id,vibration_rms,temperature_c"]
    lines += [f"{start_ms + i * 100},pump-{i % 4},{0.2 + i % 7 / 100},{60 + i % 11}" for i in range(rows)]
    lines[3] = f"{start_ms},pump-1,0.2,hot"
    lines[8] = f"{start_ms},pump 1,0.2,61"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_jsonl(path: Path, rows: int, start_ms: int) -> Path:
    lines = [orjson.dumps({"asset_id": f"motor-{i % 3}", "ts": start_ms + i * 10,
                           "values": {"current_a": 10.0 + i % 5}}).decode() for i in range(rows)]
    lines[5] = '{"asset_id": "motor-1", "ts": 1, "values": {"current_a": NaN}}'
    lines[6] = "{not json"
    path.write_text("\n".join(lines) + "\n")
    return path


def rejects_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def settle(settings: Settings, expected: int) -> None:
    """Waits for the archive to reach `expected`, then a little longer to catch any extra copy."""
    wait_until(lambda: archive_count(settings) >= expected, 90, f"{expected} readings archived")
    time.sleep(1.5)


def test_published_files_are_archived_exactly_once_and_bad_rows_are_reported(
    migrated: Settings, worker: Callable[[], WorkerProcess], tmp_path: Path
) -> None:
    start_ms = int(time.time() * 1000) - 3_600_000
    csv_file = write_csv(tmp_path / "plant.csv", 2001, start_ms)
    jsonl_file = write_jsonl(tmp_path / "motors.jsonl", 1500, start_ms)
    worker()

    csv_run = pdm(migrated, "publish", str(csv_file), "--batch-size", "300")
    jsonl_run = pdm(migrated, "publish", str(jsonl_file))
    again = pdm(migrated, "publish", str(csv_file))

    assert (csv_run.returncode, jsonl_run.returncode, again.returncode) == (1, 1, 1), csv_run.stderr
    assert "sent 1,999 readings" in csv_run.stdout and "rejected 2 rows" in csv_run.stdout
    settle(migrated, 1999 + 1498)
    assert archive_count(migrated) == 1999 + 1498 and archive_duplicates(migrated) == 0
    assert archive_count(migrated, "asset_id LIKE 'motor-%'") == 1498
    csv_rejects = rejects_of(tmp_path / "plant.csv.rejects.jsonl")
    assert [(r["line"], r["issues"][0]["field"]) for r in csv_rejects] == [(4, "values.temperature_c"),
                                                                          (9, "asset_id")]
    jsonl_rejects = rejects_of(tmp_path / "motors.jsonl.rejects.jsonl")
    assert [r["line"] for r in jsonl_rejects] == [6, 7]
    assert "finite" in jsonl_rejects[0]["issues"][0]["reason"] and jsonl_rejects[1]["raw"] == "{not json"


def test_simulate_publishes_every_tick_of_every_asset_once_and_writes_labels(
    migrated: Settings, worker: Callable[[], WorkerProcess], tmp_path: Path
) -> None:
    labels = tmp_path / "labels.json"
    worker()

    run = pdm(migrated, "simulate", "--assets", "3", "--rate", "2", "--duration", "30s", "--speedup", "15",
              "--seed", "7", "--faults", "spike:pump-1@10s", "--labels", str(labels))

    assert run.returncode == 0, run.stderr
    assert "published 180 readings" in run.stdout
    settle(migrated, 180)
    assert archive_count(migrated) == 180 and archive_duplicates(migrated) == 0
    assert set(json.loads(labels.read_text())) == {"pump-1.csv", "motor-1.csv", "pump-2.csv"}
    assert json.loads(labels.with_name("labels.detailed.json").read_text())[0]["kind"] == "spike"


def test_publish_with_the_broker_down_fails_with_one_line_and_exit_code_2(
    migrated: Settings, tmp_path: Path
) -> None:
    csv_file = write_csv(tmp_path / "plant.csv", 20, int(time.time() * 1000) - 60_000)

    run = pdm(migrated, "publish", str(csv_file),
              PDM_KAFKA__BOOTSTRAP_SERVERS=f"127.0.0.1:{free_port()}")

    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0 and "cannot reach Kafka" in run.stderr
    assert "nothing was published" in run.stderr and run.stdout == ""
