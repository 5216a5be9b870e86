"""Read-model rows for `pdm bench api`: a fleet of assets, its alerts, timelines and score series."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from psycopg.types.json import Jsonb

from pdm.readmodels.rows import health_status

SITES = ("plant-north", "plant-south", "plant-east", "plant-west", "harbour", "mine-1", "mine-2", "depot")
KINDS = ("pump", "motor", "fan", "compressor")
ALERT_KINDS = ("vibration", "temperature", "current")
STATES = (("resolved", 0.72), ("open", 0.14), ("acknowledged", 0.10), ("suppressed", 0.04))
SEVERITIES = (("warning", 0.6), ("critical", 0.3), ("emergency", 0.1))
UNRESOLVED = frozenset({"open", "acknowledged", "suppressed"})
HISTORY = timedelta(days=90)
SERIES_MINUTES = 120
NAMESPACE = uuid.UUID("6f1c6a52-4c1e-4f5e-9d0a-2b7f3e1c9a10")


@dataclass
class Fleet:
    """Every row the bench loads, built from one seed so two runs query the same data."""

    now: datetime
    assets: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def asset_ids(self) -> list[str]:
        return [a["asset_id"] for a in self.assets]


def build_fleet(n_assets: int, n_alerts: int, now: datetime, seed: int = 6) -> Fleet:
    """Alerts cluster on a minority of assets (a few noisy machines raise most of them); open
    ones are recent; each asset's status is the worst severity of its unresolved alerts."""
    rnd = random.Random(seed)
    fleet = Fleet(now)
    for n in range(n_assets):
        asset_id = f"asset-{n:05d}"
        fleet.assets.append({"asset_id": asset_id, "aggregate_id": uuid.uuid5(NAMESPACE, asset_id),
                             "site": SITES[n % len(SITES)], "kind": KINDS[n % len(KINDS)],
                             "decommissioned": rnd.random() < 0.01,
                             "registered_at": now - HISTORY - timedelta(days=rnd.randint(1, 400))})
    raised = sorted(now - HISTORY * rnd.random() for _ in range(n_alerts))
    episodes: Counter[tuple[str, str]] = Counter()
    for at in raised:
        asset = fleet.assets[int(n_assets * rnd.random() ** 2)]
        kind = rnd.choice(ALERT_KINDS)
        episodes[(asset["asset_id"], kind)] += 1
        fleet.alerts.append(_alert(rnd, asset, kind, episodes[(asset["asset_id"], kind)], at, now))
    _set_statuses(fleet)
    return fleet


def _pick(rnd: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rnd.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def _alert(rnd: random.Random, asset: dict[str, Any], kind: str, episode: int, at: datetime,
           now: datetime) -> dict[str, Any]:
    recent = now - at < timedelta(days=7)
    state = _pick(rnd, STATES) if recent else ("resolved" if rnd.random() < 0.97 else "acknowledged")
    first = 0.8 + rnd.random() * 0.15
    windows = rnd.randint(1, 40)
    updated = at + timedelta(minutes=windows + rnd.randint(0, 600))
    alert_id = uuid.uuid5(NAMESPACE, f"{asset['asset_id']}/{kind}/{episode}")
    return {
        "alert_id": alert_id, "asset_id": asset["asset_id"], "site": asset["site"], "kind": kind,
        "episode": episode, "state": state, "severity": _pick(rnd, SEVERITIES), "first_score": first,
        "peak_score": first + rnd.random() * 0.1, "threshold": 0.75, "model_version": "iforest-v3",
        "raised_at": at, "last_seen": at + timedelta(minutes=windows), "window_count": windows,
        "acknowledged_by": "operator-7" if state in ("acknowledged", "resolved") else None,
        "resolved_by": "operator-7" if state == "resolved" else None,
        "resolution": "bearing replaced" if state == "resolved" else None,
        "fault_confirmed": rnd.random() < 0.6 if state == "resolved" else None,
        "suppressed_until": now + timedelta(hours=4) if state == "suppressed" else None,
        "recorded_at": at + timedelta(seconds=2), "updated_at": min(updated, now),
        "version": 0, "position": 0,
    }


def _set_statuses(fleet: Fleet) -> None:
    open_by_asset: dict[str, list[str]] = {}
    for alert in fleet.alerts:
        if alert["state"] in UNRESOLVED:
            open_by_asset.setdefault(alert["asset_id"], []).append(alert["severity"])
    for asset in fleet.assets:
        severities = open_by_asset.get(asset["asset_id"], [])
        asset["status"] = health_status(asset["decommissioned"], severities)
        asset["open_alerts"] = len(severities)


def timeline(alert: dict[str, Any]) -> list[tuple[str, str | None, dict[str, Any], datetime]]:
    """The transitions that led to the alert's state: (event type, note, details, recorded at)."""
    at, state = alert["recorded_at"], alert["state"]
    steps: list[tuple[str, str | None, dict[str, Any], datetime]] = [
        ("Raised", None, {"asset_id": alert["asset_id"], "kind": alert["kind"], "episode": alert["episode"],
                          "first_score": alert["first_score"], "threshold": alert["threshold"]}, at)]
    if alert["window_count"] > 1:
        steps.append(("Updated", None, {"peak_score": alert["peak_score"],
                                        "window_count": alert["window_count"]}, alert["last_seen"]))
    if state in ("acknowledged", "resolved"):
        steps.append(("Acknowledged", "looking into it", {"by": "operator-7", "note": "looking into it"},
                      at + timedelta(minutes=20)))
    if state == "suppressed":
        steps.append(("Suppressed", "planned work", {"until": alert["suppressed_until"].isoformat(),
                                                      "reason": "planned work"}, at + timedelta(minutes=5)))
    if state == "resolved":
        steps.append(("Resolved", alert["resolution"], {"by": "operator-7", "resolution": alert["resolution"],
                                                         "fault_confirmed": alert["fault_confirmed"]},
                      alert["updated_at"]))
    return steps


def timeline_rows(fleet: Fleet) -> Iterator[tuple[Any, ...]]:
    """Also stamps each alert's version and position, as the projections would have."""
    position = 0
    for alert in fleet.alerts:
        for version, (event_type, note, details, at) in enumerate(timeline(alert), start=1):
            position += 1
            actor = "operator-7" if version > 1 else "worker"
            yield (alert["alert_id"], version, position, event_type, actor, f"bench-{position}", note,
                   orjson.dumps(details).decode(), at)  # jsonb from text: no adapter per row
        alert["version"], alert["position"] = version, position


SCORE_SERIES = """
INSERT INTO rm_score_series (asset_id, bucket, n, score_sum, score_min, score_max, threshold, anomalous,
                             model_version)
SELECT asset_id, bucket, 6, mean * 6, mean - 0.05, mean + 0.05, 0.75, (mean + 0.05 > 0.75)::int, 'iforest-v3'
FROM (SELECT h.asset_id, b.bucket,
             0.2 + 0.5 * (abs(hashtext(h.asset_id)) %% 1000) / 1000.0 + 0.1 * random() AS mean
      FROM rm_asset_health h
      CROSS JOIN generate_series(date_trunc('minute', %(now)s::timestamptz)
                                 - make_interval(mins => %(minutes)s),
                                 date_trunc('minute', %(now)s::timestamptz) - interval '1 minute',
                                 interval '1 minute') AS b(bucket)
      WHERE NOT h.decommissioned) s"""
"""The last SERIES_MINUTES one-minute buckets of every active asset (6 scores a bucket), made by
the server: 1.2 million rows for 10,000 assets would take longer to send than to generate."""


def latest_score_rows(fleet: Fleet) -> Iterator[tuple[Any, ...]]:
    for n, asset in enumerate(fleet.assets):
        if not asset["decommissioned"]:
            score = 0.3 + (n % 50) / 100
            yield (asset["asset_id"], fleet.now - timedelta(seconds=n % 60), score, 0.75, score > 0.75,
                   "iforest-v3")


def asset_rows(fleet: Fleet) -> Iterator[tuple[Any, ...]]:
    for n, a in enumerate(fleet.assets, start=1):
        yield (a["asset_id"], a["aggregate_id"], a["site"], a["kind"], True, a["decommissioned"], a["status"],
               a["open_alerts"], Jsonb({"vib": "mm/s", "temp": "C", "current_a": "A"}), a["registered_at"],
               fleet.now - timedelta(minutes=n % 600), n)


def now_utc() -> datetime:
    return datetime.now(UTC)
