"""GET /v1/alerts/{id}/explain: why an alert was raised, reproduced from the reading archive."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

import numpy as np
from fastapi import APIRouter, Depends

from pdm.api.deps import get_settings
from pdm.api.errors import ApiError
from pdm.api.routers._commands import DomainDep, blocking
from pdm.domain.alerts import Alert
from pdm.infra.archive_reader import read_history
from pdm.infra.database import connect
from pdm.infra.model_store import ArtifactNotFoundError, load_artifact
from pdm.scoring import (
    DEFAULT_MODEL,
    AssetResult,
    IncompatibleModelError,
    ScoringModel,
    score_history,
    trained_model,
)
from pdm.settings import Settings

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
CONTEXT_WINDOWS = 30  # scores shown before the onset: enough to see the run-up on a chart
HASH_PREFIX = re.compile(r"([0-9a-f]{12,64})$")


class ModelUnavailableError(LookupError):
    """The alert's model version names no artifact this deployment holds."""


@dataclass(frozen=True)
class Row:
    """The window at which the replay raised (or scored) the alert's onset."""

    result: AssetResult
    index: int


def model_of(settings: Settings, version: str) -> ScoringModel:
    """The recorded version, never the one serving now: a past alert is judged by its own model."""
    if version == DEFAULT_MODEL.version:
        return DEFAULT_MODEL
    found = HASH_PREFIX.search(version)
    if found is None:
        raise ModelUnavailableError(version)
    pg = settings.postgres
    with connect(pg.conninfo(), pg.schema_name, application_name="pdm-api-explain") as conn:
        digests = [r[0] for r in conn.execute(
            "SELECT artifact_hash FROM model_artifacts WHERE artifact_hash LIKE %s", (found.group(1) + "%",))]
    if len(digests) != 1:
        raise ModelUnavailableError(version)
    try:
        return trained_model(version, load_artifact(pg.conninfo(), pg.schema_name, digests[0]))
    except (ArtifactNotFoundError, IncompatibleModelError) as exc:
        raise ModelUnavailableError(version) from exc


def onset_row(results: list[AssetResult], onset_ms: int) -> Row | None:
    for result in results:
        hits = np.flatnonzero(result.row_ts_ms == onset_ms)
        if len(hits):
            return Row(result, int(hits[0]))
    return None


def reproduce(settings: Settings, alert: Alert) -> dict[str, Any]:
    """The archived readings up to the window after the onset (which closes the onset's window),
    through the batch path, the code the stream ran: equal inputs give equal bits."""
    model = model_of(settings, alert.model_version)
    size_ms = model.feature_set.window.size // 1_000_000
    onset_ms = round(alert.raised_at.timestamp() * 1000)
    pg = settings.postgres
    ts, values = read_history(pg.conninfo(), pg.schema_name, alert.asset_id, model.feature_set.channels)
    keep = ts < onset_ms + size_ms
    results, _ = score_history(lambda _: model, alert.asset_id, ts[keep], values[keep])
    row = onset_row(results, onset_ms)
    window = (onset_ms - size_ms, onset_ms)
    inside = (ts >= window[0]) & (ts < window[1])
    base = {"model_version": model.version, "feature_set": model.feature_set.tag,
            "readings_window": readings(model, window, ts[inside], values[inside]),
            "archived_readings": int(keep.sum())}
    if row is None:
        return {**base, "reproduced": False, "reason": "the archive holds no window ending at the onset"}
    return {**base, **judged(alert, row)}


def judged(alert: Alert, row: Row) -> dict[str, Any]:
    result, i = row.result, row.index
    score, threshold = float(result.scores.raw[i]), float(result.scores.threshold)
    contributions = result.scores.channel_contributions[i].tolist()  # already per channel
    first = max(0, i - CONTEXT_WINDOWS)
    return {
        "reproduced": score == alert.first_score and threshold == alert.threshold,
        "recorded": {"score": alert.first_score, "threshold": alert.threshold},
        "replayed": {"score": score, "threshold": threshold, "anomalous": bool(result.anomalous[i]),
                     "raised_here": i in result.raised.tolist()},
        "features": {n: finite(v) for n, v in zip(result.features.names, result.features.values[i].tolist(),
                                                   strict=True)},
        "channel_contributions": dict(zip(result.model.feature_set.channels,
                                          map(finite, contributions), strict=True)),
        "scores_before": [{"ts": iso(t), "score": float(s), "anomalous": bool(a)} for t, s, a in zip(
            result.row_ts_ms[first:i + 1].tolist(), result.scores.raw[first:i + 1].tolist(),
            result.anomalous[first:i + 1].tolist(), strict=True)],
    }


def readings(model: ScoringModel, window: tuple[int, int], ts: np.ndarray,
             values: np.ndarray) -> dict[str, Any]:
    channels = model.feature_set.channels
    return {"from": iso(window[0]), "to": iso(window[1]), "items": [
        {"ts": iso(t), "values": {c: v for c, v in zip(channels, row, strict=True) if not math.isnan(v)}}
        for t, row in zip(ts.tolist(), values.tolist(), strict=True)]}


def iso(ms: int) -> str:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)).isoformat()


def finite(value: float) -> float | None:
    """JSON has no NaN: an undefined feature is null."""
    return value if math.isfinite(value) else None


@router.get("/{alert_id}/explain", responses={404: {"description": "unknown alert (`alert_not_found`)"},
                                              409: {"description": "`model_unavailable`"}})
async def explain(alert_id: UUID, domain: DomainDep,
                  settings: Annotated[Settings, Depends(get_settings)]) -> dict[str, Any]:
    """The readings window, features, model version and threshold behind the alert, recomputed
    from the archive and compared with what was recorded (`reproduced`)."""
    alert = await blocking(domain.get_alert, alert_id)
    try:
        found = await blocking(reproduce, settings, alert)
    except ModelUnavailableError as exc:
        raise ApiError(409, "model_unavailable", f"model version {exc} cannot be loaded to replay",
                       {"model_version": alert.model_version}) from exc
    return {"alert_id": str(alert.id), "asset_id": alert.asset_id, "kind": alert.kind,
            "raised_at": alert.raised_at.isoformat(), "threshold": alert.threshold, **found}
