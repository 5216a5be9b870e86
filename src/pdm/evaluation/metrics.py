"""Point-wise detection metrics over scored rows: F1, false-alarm rate, missed-alarm rate."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class PointMetrics:
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int

    @property
    def precision(self) -> float:
        fired = self.true_positives + self.false_positives
        return self.true_positives / fired if fired else 0.0

    @property
    def recall(self) -> float:
        anomalous = self.true_positives + self.false_negatives
        return self.true_positives / anomalous if anomalous else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def false_alarm_rate(self) -> float:
        """Share of normal rows flagged."""
        normal = self.false_positives + self.true_negatives
        return self.false_positives / normal if normal else 0.0

    @property
    def missed_alarm_rate(self) -> float:
        """Share of anomalous rows not flagged."""
        return 1.0 - self.recall if self.true_positives + self.false_negatives else 0.0

    def __add__(self, other: PointMetrics) -> PointMetrics:
        return PointMetrics(
            self.true_positives + other.true_positives,
            self.false_positives + other.false_positives,
            self.false_negatives + other.false_negatives,
            self.true_negatives + other.true_negatives,
        )

    def as_dict(self) -> dict[str, float]:
        summary: dict[str, float] = {k: float(v) for k, v in asdict(self).items()}
        for name in ("precision", "recall", "f1", "false_alarm_rate", "missed_alarm_rate"):
            summary[name] = getattr(self, name)
        return summary


def point_metrics(anomalous: np.ndarray, flagged: np.ndarray) -> PointMetrics:
    truth, guess = np.asarray(anomalous, bool), np.asarray(flagged, bool)
    return PointMetrics(
        int((truth & guess).sum()),
        int((~truth & guess).sum()),
        int((truth & ~guess).sum()),
        int((~truth & ~guess).sum()),
    )
