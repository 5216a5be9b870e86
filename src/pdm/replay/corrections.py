"""Corrected readings into alert amendments: an alert's scores replayed from the corrected archive."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from pdm.infra.database import connect
from pdm.infra.model_store import ArtifactNotFoundError, load_artifact
from pdm.replay.run import replay_scores
from pdm.replay.source import ReplaySource
from pdm.scoring import DEFAULT_MODEL, ScoringModel, trained_model
from pdm.settings import Settings

FIRST_READING = "SELECT min(ts) FROM readings_archive WHERE asset_id = %s"
HASH_SUFFIX = re.compile(r"([0-9a-f]{12,64})$")
ARTIFACTS = "SELECT artifact_hash FROM model_artifacts WHERE artifact_hash LIKE %s"


@dataclass(frozen=True)
class AlertInputs:
    """What an alert was decided on: the asset, its onset and last sighting, the model."""

    asset_id: str
    raised_at: datetime
    last_seen: datetime
    model_version: str


def model_for(settings: Settings, version: str) -> ScoringModel | None:
    """The alert's own model (default, or a version ending in its artifact's hash prefix), else
    None: an alert is only ever re-judged by the model that raised it."""
    if version == DEFAULT_MODEL.version:
        return DEFAULT_MODEL
    found = HASH_SUFFIX.search(version)
    if found is None:
        return None
    pg = settings.postgres
    with connect(pg.conninfo(), pg.schema_name) as conn:
        digests = [r[0] for r in conn.execute(ARTIFACTS, (found.group(1) + "%",))]
    if len(digests) != 1:
        return None
    try:
        return trained_model(version, load_artifact(pg.conninfo(), pg.schema_name, digests[0]))
    except ArtifactNotFoundError:
        return None


def rescored(settings: Settings, alert: AlertInputs, model: ScoringModel) -> dict[str, float] | None:
    """`first_score` and `peak_score` as the corrected archive gives them, or None when the
    replay has no window at the onset. The whole history of the asset is replayed (the online
    detector's state depends on all of it), through the code that equals the stream, so an
    alert whose readings were not corrected gets its recorded scores back bit for bit."""
    pg = settings.postgres
    with connect(pg.conninfo(), pg.schema_name) as conn:
        first = conn.execute(FIRST_READING, (alert.asset_id,)).fetchone()
    if first is None or first[0] is None:
        return None
    closing = timedelta(microseconds=2 * model.feature_set.window.size // 1000)
    source = ReplaySource(settings, first[0], alert.last_seen + closing, (alert.asset_id,))
    table = replay_scores(lambda _: model, source.histories(model.feature_set.channels))
    onset_ms, last_ms = _ms(alert.raised_at), _ms(alert.last_seen)
    at_onset = table.ts_ms == onset_ms
    if not at_onset.any():
        return None
    episode = (table.ts_ms >= onset_ms) & (table.ts_ms <= last_ms) & (table.onset | at_onset)
    return {"first_score": float(table.score[at_onset][0]), "peak_score": float(np.max(table.score[episode]))}


def _ms(t: datetime) -> int:
    return round(t.timestamp() * 1000)
