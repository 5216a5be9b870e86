"""Score records into the evidence a rollout step is judged on: pure, so unit tests feed records."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pdm.domain.model_versions import ModelVersionState
from pdm.domain.rollout_evidence import Backtest, CanaryEvidence, Observations, ScoreStats, ShadowEvidence
from pdm.domain.rollout_policy import RolloutState
from pdm.domain.rollouts import Rollout

LIVE, SHADOW = "live", "shadow"
UNUSABLE = frozenset({ModelVersionState.REJECTED, ModelVersionState.RETIRED})


@dataclass(frozen=True, slots=True)
class Seen:
    """One score as the saga saw it: which topic, which model, when it arrived (broker time)."""

    source: str
    version: str
    asset: str
    ts: str  # the scored window's event time as sent: equal between models scoring one window
    arrival_ms: int
    anomalous: bool


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def stats(records: Iterable[Seen]) -> ScoreStats:
    scores = anomalous = 0
    for r in records:
        scores += 1
        anomalous += r.anomalous
    return ScoreStats(scores, anomalous)


def window(records: Sequence[Seen], start: datetime, end: datetime) -> list[Seen]:
    lo, hi = _ms(start), _ms(end)
    return [r for r in records if lo <= r.arrival_ms <= hi]


def shadow_evidence(rollout: Rollout, records: Sequence[Seen], now: datetime) -> ShadowEvidence:
    """Candidate scores from the shadow topic, or from the live one when a worker served it there.

    Windows both models scored are paired for agreement and latency. Without live baseline
    scores in the shadow period (a worker that served the candidate instead of shadowing it),
    the baseline is judged on the same length of time just before the shadow started.
    """
    (cand, _), (base, _) = rollout.candidate, rollout.baseline
    during = window(records, rollout.entered_at, now)
    candidate = [r for r in during if r.version == cand]
    baseline = [r for r in during if r.version == base and r.source == LIVE]
    if not baseline:
        before = window(records, rollout.entered_at - timedelta(seconds=rollout.policy.shadow_s),
                        rollout.entered_at)
        baseline = [r for r in before if r.version == base and r.source == LIVE]
    pairs = _pairs(candidate, baseline)
    agreed = sum(c.anomalous == b.anomalous for c, b in pairs)
    latency = statistics.median(c.arrival_ms - b.arrival_ms for c, b in pairs) if pairs else None
    return ShadowEvidence(stats(candidate), stats(baseline), len(pairs), agreed,
                          None if latency is None else float(latency))


def canary_evidence(rollout: Rollout, records: Sequence[Seen], now: datetime) -> CanaryEvidence:
    (cand, _), (base, _) = rollout.candidate, rollout.baseline
    canary = set(rollout.canary_assets)
    during = [r for r in window(records, rollout.entered_at, now) if r.source == LIVE]
    candidate = (r for r in during if r.version == cand and r.asset in canary)
    baseline = (r for r in during if r.version == base and r.asset not in canary)
    return CanaryEvidence(stats(candidate), stats(baseline))


def _pairs(candidate: Sequence[Seen], baseline: Sequence[Seen]) -> list[tuple[Seen, Seen]]:
    by_window = {(r.asset, r.ts): r for r in baseline}
    return [(c, by_window[(c.asset, c.ts)]) for c in candidate if (c.asset, c.ts) in by_window]


def backtest_of(candidate: Any | None, baseline: Any | None) -> Backtest | None:
    """From ModelVersion aggregates. A candidate never recorded gives no evidence yet (the step
    waits, then times out); one rejected or retired is refused whatever its metrics."""
    if candidate is None:
        return None
    refusal = f"candidate model version is {candidate.state}" if candidate.state in UNUSABLE else ""
    return Backtest(_metrics(candidate), {} if baseline is None else _metrics(baseline), refusal)


def _metrics(model: Any) -> dict[str, float]:
    record: Mapping[str, float] = model.record.metrics
    return {**record, **model.backtest_metrics}


def observe(rollout: Rollout, records: Sequence[Seen], now: datetime,
            models: tuple[Any | None, Any | None]) -> Observations:
    """Only what the current state needs is computed: the shell calls this every tick."""
    state, assets = rollout.state, tuple(sorted({r.asset for r in records if r.source == LIVE}))
    if state is RolloutState.STARTED:
        return Observations(backtest=backtest_of(*models), assets=assets)
    if state is RolloutState.SHADOWING:
        return Observations(shadow=shadow_evidence(rollout, records, now), assets=assets)
    if state is RolloutState.CANARY:
        return Observations(canary=canary_evidence(rollout, records, now), assets=assets)
    return Observations(assets=assets)
