"""Kafka topic names: every topic is declared once, here, and keyed by asset_id."""

from typing import Final

READINGS: Final = "pdm.readings.v1"
READINGS_DLQ: Final = "pdm.readings.dlq.v1"
FEATURES: Final = "pdm.features.v1"
SCORES: Final = "pdm.scores.v1"
ANOMALIES: Final = "pdm.anomalies.v1"
DEPLOYMENTS: Final = "pdm.deployments.v1"
SCORES_SHADOW: Final = "pdm.scores.shadow.v1"

# Created up front by every service: a running producer that meets a topic for the first time
# refreshes metadata for that topic alone and can lose track of its table changelogs.
ALL_TOPICS: Final = (READINGS, READINGS_DLQ, FEATURES, SCORES, SCORES_SHADOW, ANOMALIES, DEPLOYMENTS)
