"""The dashboard in headless Chromium against a stack (API, worker, projector) fed by the simulator."""

from __future__ import annotations

import asyncio
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from pdm.eventstore import create_event_tables, open_application
from pdm.infra.broker import free_port
from pdm.infra.kafka import ensure_topics
from pdm.infra.migrations import migrate
from pdm.settings import Settings
from pdm.simulation import Simulator
from tests.conftest import settings_env
from tests.integration.conftest import WorkerProcess, wait_until
from tests.integration.rollout.conftest import BASELINE, record_candidate
from tests.integration.streaming.conftest import publish_history

pytestmark = pytest.mark.e2e
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,900")
webdriver = pytest.importorskip("selenium.webdriver")
if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip("needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)",
                allow_module_level=True)


def api_key(settings: Settings) -> str | None:
    """A key with every scope where the API requires keys (pdm.infra.api_keys), else none."""
    try:
        from pdm.infra.api_keys import SCOPES, ApiKeyStore  # type: ignore[import-not-found]
    except ImportError:
        return None
    pg = settings.postgres
    token, _ = ApiKeyStore(pg.conninfo(), pg.schema_name).create("dashboard-test", SCOPES)
    return str(token)


@pytest.fixture
def stack(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """Migrated schema, two registered assets, and the services (API, projector, saga, worker)."""
    pg = settings.postgres
    migrate(pg.conninfo(), pg.schema_name)
    create_event_tables(pg)
    domain = open_application(pg)
    for asset, kind in (("pump-1", "pump"), ("motor-1", "motor")):
        domain.register_asset(asset, "plant-1", kind, {}, actor="ops", correlation_id="e2e")
    domain.close()
    key = api_key(settings)
    port = free_port()
    env = {**settings_env(settings), "PDM_API__PORT": str(port)}
    log = open(tmp_path / "services.log", "ab")  # noqa: SIM115
    pdm = str(Path(sys.executable).parent / "pdm")
    procs = [subprocess.Popen([pdm, "api"], env=env, stdout=log, stderr=log),
             subprocess.Popen([sys.executable, "-m", "projections"], env=env, stdout=log, stderr=log),
             subprocess.Popen([pdm, "saga", "--poll", "0.2"], env=env, stdout=log, stderr=log)]
    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    yield f"http://127.0.0.1:{port}", ({"Authorization": f"Bearer {key}"} if key else {})
    worker.stop()
    for proc in procs:
        proc.terminate()
        proc.wait(20)
    log.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(str(CHROMEDRIVER)))
    driver.set_script_timeout(20)
    yield driver
    driver.quit()


def get(base: str, headers: dict[str, str], path: str) -> Any:
    try:
        answer = httpx.get(base + path, headers=headers, timeout=5)
    except httpx.HTTPError:
        return None
    return answer.json() if answer.status_code == 200 else None


def open_page(driver: Any, hash_route: str, ready: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(driver.current_url.split("#")[0] + hash_route)
    WebDriverWait(driver, 20).until(lambda d: d.find_element("id", "view").get_attribute("data-ready") == ready)


def start_rollout(settings: Settings, base: str, headers: dict[str, str]) -> str:
    """A recorded candidate put into a rollout over HTTP; returns once the saga has validated it and
    the projector has listed it (its long shadow keeps it open)."""
    domain = open_application(settings.postgres)
    candidate = record_candidate(domain, "pca-dashboard", alert_rate_per_asset_day=1.0, precision=0.8)
    domain.close()
    body = {"candidate_version": candidate[0], "candidate_hash": candidate[1], "baseline_version": BASELINE[0],
            "baseline_hash": BASELINE[1], "policy": {"shadow_s": 600, "shadow_deadline_s": 900}}
    rollout_id = str(httpx.post(base + "/v1/rollouts", json=body, headers=headers, timeout=10).json()["rollout_id"])
    wait_until(lambda: "validation" in ((get(base, headers, "/v1/rollouts") or {"items": [{}]})["items"] or [{}])[0]
               .get("steps", {}), 30, "the rollout validated and listed")
    return rollout_id


def png_facts(png: bytes) -> tuple[int, int, int]:
    """Width, height and how many distinct byte values the pixel data holds (1-2: a blank page)."""
    width, height = struct.unpack(">II", png[16:24])
    chunks, at = [], 8
    while at < len(png):
        length, kind = struct.unpack(">I4s", png[at:at + 8])
        if kind == b"IDAT":
            chunks.append(png[at + 8:at + 8 + length])
        at += 12 + length
    return width, height, len(set(zlib.decompress(b"".join(chunks))))


def test_fleet_asset_and_alert_pages_work_and_acknowledge_changes_the_alert(
    settings: Settings, stack: tuple[str, dict[str, str]], browser: Any, tmp_path: Path
) -> None:
    base, headers = stack
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=25)
    sim = Simulator(2, rate_hz=1.0, seed=11, start=start, faults="overheat:pump-1@14m+5m")
    asyncio.run(ensure_topics(settings.kafka))
    asyncio.run(publish_history(settings, sim, timedelta(minutes=20), ticks_per_batch=45))
    wait_until(lambda: bool((get(base, headers, "/v1/alerts?asset_id=pump-1") or {}).get("items")), 60,
               "an alert in the read model")
    alert_id = get(base, headers, "/v1/alerts?asset_id=pump-1")["items"][0]["alert_id"]

    browser.get(base + "/dashboard/")
    if headers:
        browser.find_element("id", "key-input").send_keys(headers["Authorization"].removeprefix("Bearer "))
        browser.find_element("id", "key-save").click()
    open_page(browser, "#/", "fleet")
    fleet_rows = len(browser.find_elements("css selector", "tr.asset-row"))
    key_form_shown = browser.find_element("id", "key-form").is_displayed()
    open_page(browser, "#/assets/pump-1", "assets")
    wait_until(lambda: int(browser.find_element("id", "chart").get_attribute("data-points") or 0) > 5, 15,
               "the score chart drawn")
    shot = tmp_path / "asset.png"
    browser.save_screenshot(str(shot))
    open_page(browser, f"#/alerts/{alert_id}", "alerts")
    wait_until(lambda: bool(browser.find_elements("id", "reproduced")), 30, "the explain view")
    reproduced = browser.find_element("id", "reproduced").text
    browser.find_element("id", "acknowledge").click()
    wait_until(lambda: get(base, headers, f"/v1/alerts/{alert_id}")["state"] == "acknowledged", 15,
               "the alert acknowledged")

    rollout_id = start_rollout(settings, base, headers)
    open_page(browser, "#/rollouts", "rollouts")
    rollout_rows = len(browser.find_elements("css selector", "tr.rollout-row"))
    open_page(browser, f"#/rollouts/{rollout_id}", "rollout")
    precision = browser.find_element("css selector", '#step-validation tr[data-metric="candidate_precision"]').text

    assert fleet_rows == 2 and not key_form_shown
    assert rollout_rows == 1 and precision.split() == ["candidate_precision", "0.8000"]
    assert reproduced == "true"
    width, height, distinct = png_facts(shot.read_bytes())
    assert (width, height) == tuple(browser.execute_script("return [window.innerWidth, window.innerHeight]"))
    assert distinct > 20
