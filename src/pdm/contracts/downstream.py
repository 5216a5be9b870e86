"""Contracts the pipeline itself publishes: dead letters, scores, anomalies, deployments."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any, Final, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from pdm.contracts import topics
from pdm.contracts.errors import ContractError, located_error
from pdm.contracts.fields import AssetId, ChannelName, EventTime, FiniteFloat
from pdm.contracts.identity import anomaly_id, dead_letter_id

Label = Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/+-]{0,127}$")]
"""Model versions, feature-set versions, anomaly kinds, topic names."""
ArtifactHash = Annotated[str, StringConstraints(strict=True, pattern=r"^(sha256:)?[0-9a-f]{64}$")]
TopicName = Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Za-z0-9._-]{1,249}$")]
"""Kafka's own rule, so a deployment-prefixed topic name is accepted too."""
Count = Annotated[int, Field(strict=True, ge=0)]
Contribution = tuple[ChannelName, FiniteFloat]

MAX_DEAD_LETTER_ORIGINAL: Final = 512 * 1024

_FROZEN = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class IssueV1(BaseModel):
    model_config = _FROZEN

    field: str
    reason: str


class SourceOffsetV1(BaseModel):
    """Where an input message sat, so any output can be traced back to it."""

    model_config = _FROZEN

    topic: TopicName = topics.READINGS
    partition: Count
    offset: Count


class DeadLetterV1(BaseModel):
    """A rejected input kept verbatim (base64) with why and where it was read."""

    model_config = _FROZEN

    schema_id: Literal["dead_letter.v1"] = Field(default="dead_letter.v1", alias="schema")
    dead_letter_id: UUID
    original_b64: str
    original_size: Count
    original_truncated: bool = False
    reason: str
    issues: list[IssueV1]
    source: SourceOffsetV1
    received_at: EventTime

    @classmethod
    def from_error(
        cls,
        raw: bytes,
        error: ContractError,
        source: SourceOffsetV1,
        received_at: datetime,
        max_original_bytes: int = MAX_DEAD_LETTER_ORIGINAL,
    ) -> DeadLetterV1:
        """Same source offset, same id: re-dead-lettering a redelivery is idempotent.

        The original is cut to `max_original_bytes` so the record (base64 is 4/3 larger)
        still fits a broker's default 1 MB message limit; the source offset finds the rest.
        """
        return cls(
            dead_letter_id=dead_letter_id(source.topic, source.partition, source.offset),
            original_b64=base64.b64encode(raw[:max_original_bytes]).decode("ascii"),
            original_size=len(raw),
            original_truncated=len(raw) > max_original_bytes,
            reason=str(error)[:1000],
            issues=[IssueV1(field=i.field, reason=i.reason) for i in error.issues],
            source=source,
            received_at=received_at,
        )

    def original(self) -> bytes:
        return base64.b64decode(self.original_b64)


class ScoreV1(BaseModel):
    """One anomaly score of one asset at one event time, by one model version.

    `is_anomalous` is the detector's decision against `threshold`; the pair is kept so
    a later reader can re-judge with another threshold without re-scoring.
    """

    model_config = _FROZEN

    schema_id: Literal["score.v1"] = Field(default="score.v1", alias="schema")
    asset_id: AssetId
    ts: EventTime
    score: FiniteFloat
    threshold: FiniteFloat
    is_anomalous: bool
    model_version: Label
    feature_set_version: Label
    top_channels: list[Contribution] = []


class AnomalyV1(BaseModel):
    """An anomalous episode's onset; `anomaly_id` makes raising an alert idempotent."""

    model_config = _FROZEN

    schema_id: Literal["anomaly.v1"] = Field(default="anomaly.v1", alias="schema")
    anomaly_id: UUID = None  # type: ignore[assignment]  # derived in _check_id
    asset_id: AssetId
    kind: Label
    onset_ts: EventTime
    score: FiniteFloat
    threshold: FiniteFloat
    model_version: Label
    feature_set_version: Label
    top_channels: list[Contribution] = []
    sources: list[SourceOffsetV1] = []

    @model_validator(mode="after")
    def _check_id(self) -> AnomalyV1:
        """A given id must be the derived one, or two ids could name one anomaly."""
        expected = anomaly_id(self.asset_id, self.kind, self.onset_ts, self.model_version)
        if self.anomaly_id is None:
            object.__setattr__(self, "anomaly_id", expected)
        elif self.anomaly_id != expected:
            raise located_error("anomaly_id", f"must be {expected} for this asset/kind/onset/model")
        return self


class DeploymentV1(BaseModel):
    """Which model version serves which assets; the compacted topic keeps the latest.

    `assets="*"` means every asset not named by a more specific deployment.
    """

    model_config = _FROZEN

    schema_id: Literal["deployment.v1"] = Field(default="deployment.v1", alias="schema")
    model_version: Label
    artifact_hash: ArtifactHash
    assets: list[AssetId] | Literal["*"]
    rollout_id: UUID | None = None
    step: Literal["shadow", "canary", "promoted", "rolled_back", "manual"]

    @model_validator(mode="before")
    @classmethod
    def _no_empty_asset_list(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("assets") == []:
            raise located_error("assets", 'must name at least one asset, or be "*"')
        return data

    def serves(self, asset_id: str) -> bool:
        return self.assets == "*" or asset_id in self.assets


DOWNSTREAM_SCHEMAS: Final = ("dead_letter.v1", "score.v1", "anomaly.v1", "deployment.v1")
