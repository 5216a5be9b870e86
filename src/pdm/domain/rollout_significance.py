"""Two-proportion comparison of alert rates against a margin: worse, not worse, or not known yet."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from statistics import NormalDist


class RateFinding(StrEnum):
    NOT_WORSE = "not_worse"  # the whole interval is within the margin
    WORSE = "worse"  # the whole interval is beyond the margin
    UNDECIDED = "undecided"  # the interval straddles the margin: more evidence is needed


@dataclass(frozen=True)
class RateComparison:
    """`low`/`high` bound the difference (candidate rate minus baseline rate) one-sidedly each,
    at the given confidence, so each conclusion is a one-sided test at 1 - confidence."""

    delta: float
    low: float
    high: float
    finding: RateFinding

    def metrics(self) -> dict[str, float]:
        return {"alert_rate_delta": self.delta, "alert_rate_delta_low": self.low,
                "alert_rate_delta_high": self.high}


def compare_rates(candidate: tuple[int, int], baseline: tuple[int, int], margin: float,
                  confidence: float) -> RateComparison:
    """(anomalous, scored) of each side, compared with the Agresti-Caffo interval.

    Adding one flagged and one unflagged window to each side keeps the interval honest when a
    side has flagged nothing (rate 0 would otherwise claim zero variance and pass on 20 windows).
    """
    (x_c, n_c), (x_b, n_b) = candidate, baseline
    if n_c <= 0 or n_b <= 0:
        raise ValueError("both sides need scored windows to compare rates")
    delta = x_c / n_c - x_b / n_b
    p_c, p_b = (x_c + 1) / (n_c + 2), (x_b + 1) / (n_b + 2)
    spread = math.sqrt(p_c * (1 - p_c) / (n_c + 2) + p_b * (1 - p_b) / (n_b + 2))
    z = NormalDist().inv_cdf(confidence)
    low, high = p_c - p_b - z * spread, p_c - p_b + z * spread
    if low > margin:
        finding = RateFinding.WORSE
    elif high <= margin:
        finding = RateFinding.NOT_WORSE
    else:
        finding = RateFinding.UNDECIDED
    return RateComparison(delta, low, high, finding)
