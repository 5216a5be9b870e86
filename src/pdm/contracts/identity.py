"""Deterministic ids, so a re-sent message is recognised rather than counted twice."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Final
from uuid import NAMESPACE_URL, UUID, uuid5

from pdm.contracts.fields import to_epoch_ms

PDM_NAMESPACE: Final = uuid5(NAMESPACE_URL, "https://pdm.invalid/contracts")


def reading_id(asset_id: str, ts_ms: int, values: Iterable[tuple[str, float]], revision: int = 0) -> UUID:
    """uuid5 of asset, event time, revision and the values sorted by channel.

    Sorting makes it independent of the order of the values object; `repr` of a float is
    exact, and adding 0.0 folds -0.0 into 0.0, so equal readings hash equally.
    """
    canonical = ";".join(f"{name}={value + 0.0!r}" for name, value in sorted(values))
    return uuid5(PDM_NAMESPACE, f"reading/{asset_id}/{ts_ms}/{revision}/{canonical}")


def frame_id(asset_id: str, channel: str, ts_start: datetime, sample_rate_hz: float, digest: str) -> UUID:
    """Frames are identified by where and when they start plus a digest of the samples."""
    start = to_epoch_ms(ts_start)
    return uuid5(PDM_NAMESPACE, f"frame/{asset_id}/{channel}/{start}/{sample_rate_hz!r}/{digest}")


def anomaly_id(asset_id: str, kind: str, onset: datetime, model_version: str) -> UUID:
    """One anomaly per asset, kind, onset and model: a re-scored batch cannot add another."""
    onset_ms = to_epoch_ms(onset)
    return uuid5(PDM_NAMESPACE, f"anomaly/{asset_id}/{kind}/{onset_ms}/{model_version}")


def dead_letter_id(topic: str, partition: int, offset: int) -> UUID:
    """A redelivered poison message lands on the same dead-letter id."""
    return uuid5(PDM_NAMESPACE, f"dead-letter/{topic}/{partition}/{offset}")
