"""The query mix of `pdm bench api`: each request as a URL and as the same SQL call, on a fixed schedule."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from pdm.readmodels.queries import AlertFilter

ALERTS, TIMELINE, ASSETS = "/v1/alerts", "/v1/alerts/{id}/timeline", "/v1/assets"
HEALTH, SCORES, FLEET = "/v1/assets/{id}/health", "/v1/assets/{id}/scores", "/v1/fleet/summary"
HEALTHZ = "/healthz"
WEIGHTS = {ALERTS: 35, TIMELINE: 15, ASSETS: 10, HEALTH: 20, SCORES: 12, FLEET: 8}
PAGE, ASSET_PAGE = 50, 100


@dataclass(frozen=True)
class Query:
    """One request of the mix: `url` for the API, `sql` + `args` for the direct baseline
    (a name in pdm.readmodels.queries and the arguments the route would pass it)."""

    route: str
    url: str
    sql: str
    args: tuple[Any, ...]


def schedule(rate: float, duration_s: float) -> list[float]:
    """Send offsets at a fixed arrival rate: open loop, so a slow answer never delays the next
    request and latency is not hidden by the client waiting (no coordinated omission)."""
    if rate <= 0 or duration_s <= 0:
        raise ValueError(f"rate and duration must be positive, got {rate}/s for {duration_s} s")
    return [i / rate for i in range(round(rate * duration_s))]


def build_mix(catalog: dict[str, Any], count: int, seed: int = 1) -> list[Query]:
    """`count` queries drawn by WEIGHTS from the catalog's ids, filters and cursors."""
    rnd = random.Random(seed)
    builders = {ALERTS: _alerts, TIMELINE: _timeline, ASSETS: _assets, HEALTH: _health, SCORES: _scores,
                FLEET: _fleet}
    routes = rnd.choices(list(WEIGHTS), list(WEIGHTS.values()), k=count)
    now = datetime.fromisoformat(catalog["now"])
    return [builders[route](rnd, catalog, now) for route in routes]


def healthz(count: int) -> list[Query]:
    return [Query(HEALTHZ, HEALTHZ, "", ())] * count


def _url(path: str, params: dict[str, Any]) -> str:
    present = {k: v for k, v in params.items() if v is not None}
    return f"{path}?{urlencode(present, doseq=True)}" if present else path


def _alerts(rnd: random.Random, catalog: dict[str, Any], now: datetime) -> Query:
    """Mostly a filter's first or next page; sometimes one noisy asset's alerts, or the last week."""
    roll = rnd.random()
    if roll < 0.7:
        page = rnd.choice(catalog["alert_pages"])
        spec = {k: page.get(k) for k in ("state", "severity", "site")}
        cursor = page["cursor"]
    elif roll < 0.85:
        spec, cursor = {"asset_id": rnd.choice(catalog["noisy_asset_ids"])}, None
    else:
        spec, cursor = {"state": ["resolved"], "from": now - timedelta(days=7), "to": now}, None
    params = {**spec, "limit": PAGE, "cursor": cursor}
    params["from"] = spec["from"].isoformat() if spec.get("from") else None
    params["to"] = spec["to"].isoformat() if spec.get("to") else None
    filters = AlertFilter(spec.get("state"), spec.get("severity"), spec.get("asset_id"), spec.get("site"),
                          spec.get("from"), spec.get("to"))
    return Query(ALERTS, _url(ALERTS, params), "list_alerts", (filters, PAGE, cursor))


def _timeline(rnd: random.Random, catalog: dict[str, Any], now: datetime) -> Query:
    alert_id = rnd.choice(catalog["alert_ids"])
    return Query(TIMELINE, f"/v1/alerts/{alert_id}/timeline", "timeline", (UUID(alert_id),))


def _assets(rnd: random.Random, catalog: dict[str, Any], now: datetime) -> Query:
    roll = rnd.random()
    site = status = cursor = None
    if roll < 0.4:
        site = rnd.choice(catalog["sites"])
    elif roll < 0.7:
        status = rnd.choice(catalog["statuses"])
    elif roll < 0.85:
        page = rnd.choice(catalog["asset_pages"])
        site, cursor = page["site"], page["cursor"]
    params = {"site": site, "status": status, "cursor": cursor, "limit": ASSET_PAGE}
    return Query(ASSETS, _url(ASSETS, params), "list_assets", (site, status, cursor, ASSET_PAGE + 1))


def _health(rnd: random.Random, catalog: dict[str, Any], now: datetime) -> Query:
    asset_id = rnd.choice(catalog["asset_ids"])
    return Query(HEALTH, f"/v1/assets/{asset_id}/health", "asset_health", (asset_id,))


def _scores(rnd: random.Random, catalog: dict[str, Any], now: datetime) -> Query:
    """A chart: the last hour per minute, or the whole series per five minutes."""
    asset_id = rnd.choice(catalog["asset_ids"])
    minutes, step = (60, 60) if rnd.random() < 0.5 else (catalog["series_minutes"], 300)
    start, end = now - timedelta(minutes=minutes), now
    url = _url(f"/v1/assets/{asset_id}/scores", {"from": start.isoformat(), "to": end.isoformat(),
                                                  "step": step})
    return Query(SCORES, url, "score_series", (asset_id, start, end, step))


def _fleet(rnd: random.Random, catalog: dict[str, Any], now: datetime) -> Query:
    return Query(FLEET, FLEET, "fleet_summary", ())
