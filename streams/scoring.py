"""The scoring agent: readings and frames → per-asset features, scores and anomaly onsets, in micro-batches.

Run-book: runs inside `pdm worker` (agent `score_readings`, group `pdm-worker`). Per-asset state
lives in the tables `scoring-state` and `frame-scoring-state` (changelog topics, recovered on
start and on rebalance),
written once per asset per micro-batch after that batch's outputs were acknowledged. A crash
between the two re-sends identical outputs; a state saved ahead of the committed offset
makes the redelivered readings no-ops (they are not newer than the saved `last_ts_ms`).

Shadow deployments: every asset a shadow covers is also scored by the candidate on the same
feature rows, onto `pdm.scores.shadow.v1` (same `ts`, candidate's `model_version`, no
anomalies). The candidate keeps no state of its own (see `pdm.scoring.shadow`), so nothing
more is persisted and a redelivered batch re-sends the same shadow scores.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import faust

from pdm.contracts import ContractError, FrameArrays, FrameV1, decode_arrays, topics
from pdm.features import FeatureSet, IncompatibleStateError
from pdm.logs import get_logger
from pdm.scoring import AssetScoringState, MicroBatch, Outputs, encode, score_micro_batch
from pdm.scoring.batch import ModelFor
from pdm.scoring.frame_batch import encode_frames, score_frame_batch
from pdm.scoring.frames import DEFAULT_FRAME_MODEL, AssetFrameState
from pdm.scoring.model import DEFAULT_FEATURE_SET
from pdm.scoring.outputs import encode_shadow
from pdm.scoring.shadow import ShadowsFor, shadow_micro_batch
from pdm.settings import Settings
from streams.batching import process_batches
from streams.offsets import OffsetOrder

log = get_logger(__name__)
Save = tuple["StateTable", bytes, Any]
STATE_TABLE = "scoring-state"
FRAME_STATE_TABLE = "frame-scoring-state"


@dataclass
class ScoringStats:
    messages: int = 0
    undecodable: int = 0
    frames: int = 0
    readings_dropped_stale: int = 0
    windows_scored: int = 0
    shadow_windows_scored: int = 0
    anomalies: int = 0
    batches: int = 0
    busy_s: float = 0.0
    sending_s: float = 0.0
    """Of `busy_s`, the time awaiting the broker's acknowledgement of the batches' outputs."""


class StateTable:
    """Serialised states with a parse cache: a state unchanged since we wrote it is not parsed again."""

    def __init__(self, table: faust.Table, parse: Callable[[bytes], Any]) -> None:
        self.table, self.parse = table, parse
        self._cache: dict[bytes, tuple[bytes, Any]] = {}

    def load(self, key: bytes) -> Any:
        raw = self.table.get(key)
        if raw is None:
            return None
        cached = self._cache.get(key)
        if cached is not None and cached[0] is raw:
            return cached[1]
        try:
            state = self.parse(raw)
        except IncompatibleStateError:
            log.warning("scoring_state_discarded", asset_id=key.decode(), reason="feature set changed")
            return None
        self._cache[key] = (raw, state)
        return state

    async def ready_to_save(self, app: faust.App) -> None:
        """Faust sends a table write with the partition its producer computes from cached metadata
        (`use_partitioner=True`), and raises TypeError when the changelog topic is not in that cache
        yet, as on a fresh worker's first batch. aiokafka's `partitions_for` loads it."""
        producer = app.producer._ensure_producer()  # type: ignore[attr-defined]
        topic = self.table.changelog_topic.get_topic_name()
        if producer._metadata.partitions_for_topic(topic) is None:
            await producer.partitions_for(topic)

    def save(self, key: bytes, state: Any) -> None:
        raw = state.to_bytes()
        self.table[key] = raw
        self._cache[key] = (raw, state)


class Scorer:
    """Decodes, scores with the pure core and publishes one micro-batch at a time."""

    def __init__(self, app: faust.App, settings: Settings, tables: tuple[faust.Table, faust.Table],
                 model_for: ModelFor, feature_set: FeatureSet = DEFAULT_FEATURE_SET,
                 shadows_for: ShadowsFor | None = None) -> None:
        self.app, self.model_for, self.feature_set = app, model_for, feature_set
        self.shadows_for = shadows_for if shadows_for is not None else _shadows_of(model_for)
        kafka = settings.kafka
        self.topics = {name: kafka.topic(name)
                       for name in (topics.FEATURES, topics.SCORES, topics.ANOMALIES, topics.SCORES_SHADOW)}
        self.stats = ScoringStats()
        tag = feature_set.tag
        self.readings = StateTable(tables[0], lambda raw: AssetScoringState.from_bytes(raw, tag))
        self.frames = StateTable(tables[1], AssetFrameState.from_bytes)
        self.frame_model = DEFAULT_FRAME_MODEL
        self.order = OffsetOrder.of(app)

    async def process(self, batch: Sequence[bytes]) -> None:
        started = time.perf_counter()
        micro = self.decode(batch)
        outputs = Outputs()
        saves = self._score_readings(micro, outputs)
        if micro.frames:
            saves += self._score_frames(micro.frames, outputs)
        sending = time.perf_counter()
        await self._send(outputs)
        self.stats.sending_s += time.perf_counter() - sending
        for table in {table for table, _, _ in saves}:
            await table.ready_to_save(self.app)
        for table, key, state in saves:
            table.save(key, state)
        self._count(len(batch), outputs, time.perf_counter() - started)

    def decode(self, batch: Sequence[bytes]) -> MicroBatch:
        """Invalid messages are the gate's to dead-letter; here they are only counted."""
        micro = MicroBatch(self.feature_set.channels)
        for raw in batch:
            try:
                micro.add(decode_arrays(raw or b""))
            except ContractError:
                self.stats.undecodable += 1
        self.stats.frames += len(micro.frames)
        return micro

    def _score_readings(self, micro: MicroBatch, outputs: Outputs) -> list[Save]:
        keys = {asset: asset.encode() for asset in micro.asset_ids()}
        states = {asset: self.readings.load(key) for asset, key in keys.items()}
        results, new_states = score_micro_batch(self.model_for, states, micro)
        for result in results:
            outputs.extend(encode(result))
            self.stats.readings_dropped_stale += result.dropped
        if self.shadows_for is not None:
            for shadow in shadow_micro_batch(self.shadows_for, states, results):
                outputs.extend(encode_shadow(shadow))
        return [(self.readings, keys[asset], state) for asset, state in new_states.items()]

    def _score_frames(self, frames: list[FrameV1 | FrameArrays], outputs: Outputs) -> list[Save]:
        """Keyed by asset id (all channels in one value), so the state sits on the asset's partition."""
        states = {f.asset_id: self.frames.load(f.asset_id.encode()) for f in frames}
        results, new_states = score_frame_batch(self.frame_model, states, frames)
        for result in results:
            outputs.extend(encode_frames(result))
        return [(self.frames, asset.encode(), state) for asset, state in new_states.items()]

    async def _send(self, outputs: Outputs) -> None:
        """All sends in flight together, awaited once: the state is saved only after this."""
        producer = self.app.producer
        futures = []
        for name, messages in ((topics.FEATURES, outputs.features), (topics.SCORES, outputs.scores),
                               (topics.ANOMALIES, outputs.anomalies),
                               (topics.SCORES_SHADOW, outputs.shadow_scores)):
            topic = self.topics[name]
            for key, value in messages:
                futures.append(await producer.send(topic, key, value, None, None, None))
        if futures:
            await asyncio.gather(*futures)

    def _count(self, messages: int, outputs: Outputs, busy_s: float) -> None:
        self.stats.messages += messages
        self.stats.batches += 1
        self.stats.windows_scored += len(outputs.scores)
        self.stats.shadow_windows_scored += len(outputs.shadow_scores)
        self.stats.anomalies += len(outputs.anomalies)
        self.stats.busy_s += busy_s
        if outputs.anomalies:
            log.info("anomalies_emitted", count=len(outputs.anomalies))


def _shadows_of(model_for: ModelFor) -> ShadowsFor | None:
    """`DeploymentBook.model_for` brings its book's shadows; a bare function has none."""
    shadows = getattr(getattr(model_for, "__self__", None), "shadows_for", None)
    return shadows if callable(shadows) else None


def state_table(app: faust.App, settings: Settings, name: str = STATE_TABLE) -> faust.Table:
    """Raw asset-id keys and raw value bytes, partitioned like the readings topic.

    `use_partitioner=True` lets the `take()` timer flush a batch outside stream iteration;
    raw key bytes make the producer's partitioner put each key on its reading partition.
    """
    # value_type=bytes selects the raw codec on send *and* on recovery (the notes' advice to
    # leave value_type unset is about `list`; unset means json, which recovers our bytes as dicts).
    return app.Table(name, key_type=bytes, value_type=bytes, use_partitioner=True,
                     partitions=settings.kafka.partitions)


def register_scoring(
    app: faust.App, settings: Settings, readings: faust.TopicT, model_for: ModelFor,
    feature_set: FeatureSet = DEFAULT_FEATURE_SET, shadows_for: ShadowsFor | None = None,
) -> Scorer:
    tables = state_table(app, settings), state_table(app, settings, FRAME_STATE_TABLE)
    scorer = Scorer(app, settings, tables, model_for, feature_set, shadows_for)
    worker = settings.worker

    @app.agent(readings, name="score_readings", concurrency=1)
    async def score_readings(stream: faust.StreamT[bytes]) -> None:
        """Readings in, features / scores / anomalies out; every decision is in pdm.scoring."""
        await process_batches(app, stream, worker.batch_size, worker.batch_within_s, scorer.process,
                              scorer.order)

    return scorer
