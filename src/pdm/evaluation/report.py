"""The evaluation report: NAB scores per profile in both threshold modes, plus point metrics."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pdm.evaluation.metrics import PointMetrics


@dataclass(frozen=True)
class ProfileResult:
    profile: str
    mode: str
    """"fixed" (threshold chosen before seeing labels) or "corpus_optimised" (NAB scoreboard)."""
    threshold: float
    raw_score: float
    normalised_score: float
    windows_detected: int
    windows_total: int
    false_positives: int


@dataclass(frozen=True)
class NabReport:
    detector: str
    params: dict[str, Any]
    files: int
    rows: int
    seconds: float
    results: list[ProfileResult]
    point: PointMetrics | None = None
    point_threshold: float | None = None
    per_file: dict[str, float] = field(default_factory=dict)
    """Standard-profile raw score of each file at the fixed (else the optimised) threshold."""

    def score(self, profile: str, mode: str) -> float:
        for result in self.results:
            if result.profile == profile and result.mode == mode:
                return result.normalised_score
        raise KeyError((profile, mode))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["point"] = self.point.as_dict() if self.point else None
        return data

    def as_table(self) -> str:
        lines = [
            f"detector {self.detector}  files {self.files}  rows {self.rows}  time {self.seconds:.1f}s",
            f"{'profile':<15}{'mode':<18}{'threshold':>10}{'score':>8}{'windows':>9}{'FP':>6}",
        ]
        for r in self.results:
            lines.append(
                f"{r.profile:<15}{r.mode:<18}{r.threshold:>10.4f}{r.normalised_score:>8.1f}"
                f"{r.windows_detected:>5}/{r.windows_total:<3}{r.false_positives:>6}"
            )
        if self.point is not None:
            p = self.point
            lines.append(
                f"point-wise at {self.point_threshold:.4f}: F1 {p.f1:.3f}  precision "
                f"{p.precision:.3f}  recall {p.recall:.3f}  false-alarm rate "
                f"{p.false_alarm_rate:.4f}  missed-alarm rate {p.missed_alarm_rate:.3f}"
            )
        return "\n".join(lines)
