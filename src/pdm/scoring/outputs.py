"""What the scoring step publishes: feature vectors, scores and anomaly onsets, as message bytes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from pdm.contracts import AnomalyV1, ScoreV1
from pdm.contracts.fields import AssetId, EventTime
from pdm.detection import top_contributors
from pdm.scoring.model import ANOMALY_KIND
from pdm.scoring.pipeline import AssetResult

Message = tuple[bytes, bytes]


class FeatureVectorV1(BaseModel):
    """One window's features on `pdm.features.v1`; `values[i]` is `names[i]`, null when undefined.

    Floats travel as shortest round-trip text, so a reader gets the computed bits back.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    schema_id: Literal["feature_vector.v1"] = Field(default="feature_vector.v1", alias="schema")
    asset_id: AssetId
    ts: EventTime
    feature_set_version: Annotated[str, Field(min_length=1, max_length=128)]
    names: list[str]
    values: list[float | None]


@dataclass
class Outputs:
    """Messages of one micro-batch, keyed by asset id, ready to send all at once."""

    features: list[Message] = field(default_factory=list)
    scores: list[Message] = field(default_factory=list)
    anomalies: list[Message] = field(default_factory=list)
    shadow_scores: list[Message] = field(default_factory=list)
    """A shadow candidate's scores, for `pdm.scores.shadow.v1`."""

    def extend(self, other: Outputs) -> None:
        self.features += other.features
        self.scores += other.scores
        self.anomalies += other.anomalies
        self.shadow_scores += other.shadow_scores


def encode(result: AssetResult) -> Outputs:
    """Messages for one asset's result; a loop over windows (not readings) by construction."""
    out = Outputs()
    key = result.asset_id.encode()
    rows = result.features
    for ts, values in zip(result.row_ts_ms.tolist(), rows.values.tolist(), strict=True):
        out.features.append((key, feature_message(result.asset_id, ts, rows.feature_set, rows.names, values)))
    out.scores = score_messages(result)
    for i in result.raised.tolist():
        out.anomalies.append((key, anomaly(result, i).model_dump_json(by_alias=True).encode()))
    return out


def encode_shadow(result: AssetResult) -> Outputs:
    """A shadow candidate's result: its scores only (no features, and never an anomaly)."""
    return Outputs(shadow_scores=score_messages(result))


def score_messages(result: AssetResult) -> list[Message]:
    """One `score.v1` per window, keyed by asset id."""
    key = result.asset_id.encode()
    rows = result.features
    model, channels = result.model, result.model.feature_set.channels
    tops = top_contributors(result.scores.channel_contributions, channels, k=3) if len(rows) else []
    threshold = result.scores.threshold
    out = []
    for i, (ts, raw) in enumerate(zip(result.row_ts_ms.tolist(), result.scores.raw.tolist(), strict=True)):
        top = [(name, share) for name, share in tops[i] if share > 0]
        score = ScoreV1(
            asset_id=result.asset_id, ts=ts, score=raw, threshold=threshold,
            is_anomalous=bool(result.anomalous[i]), model_version=model.version,
            feature_set_version=rows.feature_set, top_channels=top,
        )
        out.append((key, score.model_dump_json(by_alias=True).encode()))
    return out


def anomaly(result: AssetResult, row: int) -> AnomalyV1:
    """The onset is the window at which hysteresis raised, so its id is stable on replay."""
    tops = top_contributors(result.scores.channel_contributions[row], result.model.feature_set.channels)
    return AnomalyV1(
        asset_id=result.asset_id, kind=ANOMALY_KIND, onset_ts=int(result.row_ts_ms[row]),
        score=float(result.scores.raw[row]), threshold=result.scores.threshold,
        model_version=result.model.version, feature_set_version=result.features.feature_set,
        top_channels=[(n, s) for n, s in tops[0] if s > 0],
    )


def feature_message(asset_id: str, ts: int, tag: str, names: tuple[str, ...], values: list[float]) -> bytes:
    """NaN travels as null: JSON has no NaN, and a reader must see 'undefined', not a number."""
    clean = [None if math.isnan(v) else v for v in values]
    vector = FeatureVectorV1(
        asset_id=asset_id, ts=ts, feature_set_version=tag, names=list(names), values=clean
    )
    return vector.model_dump_json(by_alias=True).encode()
