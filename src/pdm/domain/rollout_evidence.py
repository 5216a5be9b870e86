"""What a rollout step is judged on (backtest, shadow, canary evidence) and the pure verdicts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pdm.domain.rollout_policy import RolloutPolicy
from pdm.domain.rollout_significance import RateFinding, compare_rates

ALERT_RATE = "alert_rate_per_asset_day"
PRECISION = "precision"


@dataclass(frozen=True)
class Verdict:
    """A judged step: `metrics` are recorded on the event whichever way it went."""

    passed: bool
    metrics: dict[str, float]
    reason: str = ""


@dataclass(frozen=True)
class Backtest:
    """Backtest metrics of both models on replayed recent history (as `pdm retrain` reports them)."""

    candidate: Mapping[str, float]
    baseline: Mapping[str, float]
    refusal: str = ""  # why the candidate may not serve at all (its version was rejected, retired)


@dataclass(frozen=True)
class ScoreStats:
    scores: int = 0
    anomalous: int = 0

    @property
    def rate(self) -> float | None:
        return self.anomalous / self.scores if self.scores else None


@dataclass(frozen=True)
class ShadowEvidence:
    """Candidate scores beside the serving model's; `paired` windows were scored by both."""

    candidate: ScoreStats
    baseline: ScoreStats
    paired: int = 0
    agreed: int = 0
    latency_cost_ms: float | None = None


@dataclass(frozen=True)
class CanaryEvidence:
    """The candidate on the canary assets against the baseline on the others, same period."""

    candidate: ScoreStats
    baseline: ScoreStats


@dataclass(frozen=True)
class Observations:
    """Everything the saga shell gathered for one decision; None means not gathered (yet)."""

    backtest: Backtest | None = None
    shadow: ShadowEvidence | None = None
    canary: CanaryEvidence | None = None
    assets: tuple[str, ...] = field(default_factory=tuple)


def judge_backtest(backtest: Backtest, policy: RolloutPolicy) -> Verdict:
    """Only what both models report is compared: a metric missing on either side is no evidence."""
    cand, base = backtest.candidate, backtest.baseline
    metrics = {f"candidate_{k}": float(v) for k, v in cand.items()}
    metrics |= {f"baseline_{k}": float(v) for k, v in base.items()}
    reasons = [backtest.refusal] if backtest.refusal else []
    if ALERT_RATE in cand and ALERT_RATE in base:
        allowed = base[ALERT_RATE] * (1 + policy.max_alert_rate_increase)
        if cand[ALERT_RATE] > allowed:
            reasons.append(f"backtest alert rate {cand[ALERT_RATE]:.3g}/asset-day exceeds {allowed:.3g}")
    if PRECISION in cand and PRECISION in base:
        floor = base[PRECISION] - policy.max_precision_drop
        if cand[PRECISION] < floor:
            reasons.append(f"backtest precision {cand[PRECISION]:.3g} below {floor:.3g}")
    return Verdict(not reasons, metrics, "; ".join(reasons))


def judge_shadow(evidence: ShadowEvidence, policy: RolloutPolicy) -> Verdict | None:
    """None until the candidate has `min_scores` scores (silence is not agreement), and while the
    alert rates are neither significantly within the margin nor significantly beyond it."""
    if evidence.candidate.scores < max(policy.min_scores, 1):
        return None
    metrics = _rates(evidence.candidate, evidence.baseline) | {"paired": float(evidence.paired)}
    reasons, undecided = _rate_reasons(evidence.candidate, evidence.baseline, policy, "shadow", metrics)
    if evidence.paired:
        agreement = evidence.agreed / evidence.paired
        metrics["agreement"] = agreement
        if agreement < policy.min_agreement:
            reasons.append(f"shadow agreement {agreement:.3f} below {policy.min_agreement}")
    if evidence.latency_cost_ms is not None:
        metrics["latency_cost_ms"] = evidence.latency_cost_ms
        if evidence.latency_cost_ms > policy.max_latency_cost_ms:
            reasons.append(f"shadow latency cost {evidence.latency_cost_ms:.0f} ms "
                           f"above {policy.max_latency_cost_ms:.0f} ms")
    return _verdict(metrics, reasons, undecided)


def judge_canary(evidence: CanaryEvidence, policy: RolloutPolicy) -> Verdict | None:
    if evidence.candidate.scores < max(policy.min_scores, 1):
        return None
    metrics = _rates(evidence.candidate, evidence.baseline)
    reasons, undecided = _rate_reasons(evidence.candidate, evidence.baseline, policy, "canary", metrics)
    return _verdict(metrics, reasons, undecided)


def _verdict(metrics: dict[str, float], reasons: list[str], undecided: bool) -> Verdict | None:
    """A clear failure fails at once; otherwise an undecided rate comparison waits for evidence."""
    if reasons:
        return Verdict(False, metrics, "; ".join(reasons))
    return None if undecided else Verdict(True, metrics)


def _rates(candidate: ScoreStats, baseline: ScoreStats) -> dict[str, float]:
    metrics = {"candidate_scores": float(candidate.scores), "baseline_scores": float(baseline.scores)}
    if candidate.rate is not None:
        metrics["candidate_alert_rate"] = candidate.rate
    if baseline.rate is not None:
        metrics["baseline_alert_rate"] = baseline.rate
    return metrics


def _rate_reasons(candidate: ScoreStats, baseline: ScoreStats, policy: RolloutPolicy, step: str,
                  metrics: dict[str, float]) -> tuple[list[str], bool]:
    """Fails only when the candidate's rate is significantly more than the margin above the
    baseline's; (reasons, undecided). Adds the difference and its bounds to `metrics`."""
    if not candidate.scores or not baseline.scores:
        return [], False
    found = compare_rates((candidate.anomalous, candidate.scores), (baseline.anomalous, baseline.scores),
                          policy.max_alert_rate_delta, policy.confidence)
    metrics |= found.metrics()
    if found.finding is RateFinding.WORSE:
        return [f"{step} alert rate {candidate.rate:.3f} vs baseline {baseline.rate:.3f} (delta "
                f"{found.delta:+.3f}, at least {found.low:+.3f} at {policy.confidence:.0%} confidence, "
                f"> {policy.max_alert_rate_delta})"], False
    return [], found.finding is RateFinding.UNDECIDED
