"""Dead letters, scores, anomalies and deployments: the pipeline's own contracts."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from pdm.contracts import (
    AnomalyV1,
    ContractError,
    DeadLetterV1,
    DeploymentV1,
    ScoreV1,
    SourceOffsetV1,
    anomaly_id,
    decode_message,
    topics,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
ANOMALY = {
    "asset_id": "pump-7",
    "kind": "vibration",
    "onset_ts": "2026-11-21T09:59:00Z",
    "score": 0.97,
    "threshold": 0.9,
    "model_version": "iforest-3",
    "feature_set_version": "fs-1",
    "top_channels": [["vib", 0.8]],
    "sources": [{"partition": 3, "offset": 1200}],
}


def test_a_dead_letter_keeps_the_original_bytes_and_every_issue() -> None:
    raw = b'{"asset_id": "pump 7"}'
    with pytest.raises(ContractError) as caught:
        decode_message(raw)
    source = SourceOffsetV1(topic=topics.READINGS, partition=2, offset=41)

    letter = DeadLetterV1.from_error(raw, caught.value, source, received_at=NOW)

    again = DeadLetterV1.model_validate_json(letter.model_dump_json(by_alias=True))
    assert again.original() == raw
    assert {i.field for i in again.issues} == {"asset_id", "ts", "values"}
    assert again.dead_letter_id == letter.dead_letter_id


def test_a_huge_original_is_cut_and_marked_as_cut() -> None:
    raw = b"x" * 1000

    letter = DeadLetterV1.from_error(
        raw, ContractError.single("", "bad"), SourceOffsetV1(partition=0, offset=1), NOW, 100
    )

    assert letter.original() == raw[:100]
    assert letter.original_truncated and letter.original_size == 1000


def test_source_offsets_accept_any_kafka_topic_name() -> None:
    source = SourceOffsetV1(topic="staging-7.pdm.readings.v1", partition=0, offset=0)

    assert source.topic == "staging-7.pdm.readings.v1"


def test_redelivered_poison_gets_the_same_dead_letter_id() -> None:
    error = ContractError.single("", "bad")
    source = SourceOffsetV1(partition=0, offset=7)

    first = DeadLetterV1.from_error(b"x", error, source, NOW)
    second = DeadLetterV1.from_error(b"x", error, source, datetime.now(UTC))

    assert first.dead_letter_id == second.dead_letter_id


def test_anomaly_id_is_derived_from_asset_kind_onset_and_model() -> None:
    anomaly = AnomalyV1.model_validate(ANOMALY)

    rescored = AnomalyV1.model_validate({**ANOMALY, "score": 0.99})

    assert (
        anomaly.anomaly_id
        == rescored.anomaly_id
        == anomaly_id("pump-7", "vibration", anomaly.onset_ts, "iforest-3")
    )


def test_an_anomaly_id_that_does_not_match_its_fields_is_rejected() -> None:
    with pytest.raises(ValidationError):
        AnomalyV1.model_validate({**ANOMALY, "anomaly_id": "5f0c7d0e-1c7e-4d52-9a57-3b0f4a2e8d11"})


def test_score_serialises_top_channels_as_pairs() -> None:
    score = ScoreV1(
        asset_id="pump-7",
        ts=NOW,
        score=0.4,
        threshold=0.9,
        is_anomalous=False,
        model_version="iforest-3",
        feature_set_version="fs-1",
        top_channels=[("vib", 0.3)],
    )

    wire = score.model_dump_json(by_alias=True)

    assert '"top_channels":[["vib",0.3]]' in wire
    assert ScoreV1.model_validate_json(wire) == score


def test_a_deployment_serves_the_assets_it_names_or_all_of_them() -> None:
    digest = "a" * 64
    some = DeploymentV1(model_version="m2", artifact_hash=digest, assets=["pump-7"], step="canary")
    everyone = DeploymentV1(model_version="m2", artifact_hash=f"sha256:{digest}", assets="*", step="promoted")

    assert some.serves("pump-7") and not some.serves("pump-8")
    assert everyone.serves("anything")


def test_a_deployment_with_no_assets_or_a_bad_hash_is_rejected() -> None:
    bad_parts: list[dict[str, object]] = [
        {"assets": []},
        {"artifact_hash": "nothex"},
        {"assets": "all"},
    ]
    for bad in bad_parts:
        with pytest.raises(ValidationError):
            DeploymentV1.model_validate(
                {
                    "model_version": "m",
                    "artifact_hash": "b" * 64,
                    "assets": "*",
                    "step": "shadow",
                    **bad,
                }
            )


def test_every_topic_name_follows_the_house_pattern() -> None:
    assert all(t.startswith("pdm.") and t.endswith(".v1") for t in topics.ALL_TOPICS)
    assert len(set(topics.ALL_TOPICS)) == 7
