"""NAB scoring, mirroring numenta/NAB's sweeper, optimiser and normalisation (v1.1 protocol).

Per row, before any threshold: probationary rows are dropped; a row inside a window is worth
its scaled-sigmoid position (earliest = most); a row outside is a false positive weighted by
its distance past the previous window (-1 before any window). A window counts its best
detected row, or the miss weight if none. Totals are normalised between the null detector
(never fires) and the perfect one (one point per labelled window).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

PROBATION_FRACTION = 0.15
PROBATION_CAP_ROWS = 5000
NOTHING_DETECTED = 1.1
"""NAB's threshold above every score, at which nothing fires."""


@dataclass(frozen=True)
class Profile:
    name: str
    tp_weight: float
    fp_weight: float
    fn_weight: float


PROFILES = (
    Profile("standard", 1.0, 0.11, 1.0),
    Profile("reward_low_FP", 1.0, 0.22, 1.0),
    Profile("reward_low_FN", 1.0, 0.11, 2.0),
)


def scaled_sigmoid(position: np.ndarray) -> np.ndarray:
    """2·sigmoid(-5x) - 1, and -1 once more than three window-lengths past a window."""
    position = np.asarray(position, dtype=np.float64)
    with np.errstate(over="ignore"):
        value = 2.0 / (1.0 + np.exp(5.0 * position)) - 1.0
    return np.where(position > 3.0, -1.0, value)


MAX_TP = float(scaled_sigmoid(np.array(-1.0)))


def probation_length(rows: int) -> float:
    return min(math.floor(PROBATION_FRACTION * rows), PROBATION_FRACTION * PROBATION_CAP_ROWS)


@dataclass(frozen=True)
class LabelledFile:
    """The threshold-free part of NAB's sweep for one file.

    `window` is the window index of each row, -1 outside every window; probationary rows
    are removed. `in_window` and `past_window` are the unweighted sigmoid values.
    """

    name: str
    rows: int
    scored: np.ndarray
    window: np.ndarray
    value: np.ndarray
    windows_scored: int
    windows_labelled: int


def label_file(name: str, ts: np.ndarray, windows: list[tuple[np.datetime64, np.datetime64]]) -> LabelledFile:
    """Assign rows to windows exactly as NAB's `calcSweepScore` walks them, in file order."""
    n = len(ts)
    window = np.full(n, -1)
    value = np.full(n, -1.0)
    cursor = 0
    for k, (start, end) in enumerate(windows):
        entered = np.flatnonzero(ts[cursor:] == start)
        if len(entered) == 0:
            break
        enter = cursor + int(entered[0])
        right = int(np.flatnonzero(ts == end)[0])
        width = float(right - int(np.flatnonzero(ts == start)[0]) + 1)
        exits = np.flatnonzero(ts[enter:] == end)
        leave = enter + int(exits[0]) if len(exits) else n - 1
        inside = np.arange(enter, leave + 1)
        window[inside] = k
        value[inside] = scaled_sigmoid(-(right - inside + 1) / width)
        after = np.arange(leave + 1, n)
        value[after] = scaled_sigmoid(np.abs(leave - after) / (width - 1.0))
        cursor = leave + 1
    scored = np.arange(n) >= probation_length(n)
    present = np.unique(window[scored & (window >= 0)])
    return LabelledFile(name, n, scored, window, value, len(present), len(windows))


def _row_weights(labelled: LabelledFile, profile: Profile) -> np.ndarray:
    in_window = labelled.value * profile.tp_weight / MAX_TP
    return np.where(labelled.window >= 0, in_window, labelled.value * profile.fp_weight)


def file_score(labelled: LabelledFile, scores: np.ndarray, threshold: float, profile: Profile) -> float:
    """Raw NAB score of one file with detections at `score >= threshold`."""
    weights = _row_weights(labelled, profile)
    detected = labelled.scored & (np.asarray(scores) >= threshold)
    total = float(weights[detected & (labelled.window < 0)].sum())
    for k in np.unique(labelled.window[labelled.scored & (labelled.window >= 0)]):
        hits = detected & (labelled.window == k)
        total += max(-profile.fn_weight, float(weights[hits].max())) if hits.any() else -profile.fn_weight
    return total


def _file_deltas(
    labelled: LabelledFile, scores: np.ndarray, profile: Profile
) -> tuple[np.ndarray, np.ndarray]:
    """Per scored row: its score and how much the file total rises when it starts to fire.

    A window's rows are ordered by descending score; each contributes the rise of the running
    best over that order, so any prefix sums to the window's value at that threshold.
    """
    weights = _row_weights(labelled, profile)
    keep = labelled.scored
    a, w, win = np.asarray(scores, np.float64)[keep], weights[keep], labelled.window[keep]
    delta = np.where(win < 0, w, 0.0)
    for k in np.unique(win[win >= 0]):
        rows = np.flatnonzero(win == k)
        order = rows[np.argsort(-a[rows], kind="stable")]
        best = np.maximum.accumulate(np.maximum(w[order], -profile.fn_weight))
        delta[order] = np.diff(np.concatenate(([-profile.fn_weight], best)))
    return a, delta


def sweep(
    files: list[LabelledFile], scores: list[np.ndarray], profile: Profile
) -> tuple[np.ndarray, np.ndarray]:
    """Raw corpus score at every distinct threshold, descending, like NAB's `calcScoreByThreshold`."""
    parts = [_file_deltas(f, s, profile) for f, s in zip(files, scores, strict=True)]
    a = np.concatenate([p[0] for p in parts] + [np.empty(0)])
    delta = np.concatenate([p[1] for p in parts] + [np.empty(0)])
    base = -profile.fn_weight * sum(f.windows_scored for f in files)
    order = np.argsort(-a, kind="stable")
    a, totals = a[order], base + np.cumsum(delta[order])
    group_end = np.flatnonzero(np.append(a[1:] != a[:-1], True)) if len(a) else np.empty(0, int)
    thresholds = np.concatenate(([NOTHING_DETECTED], a[group_end]))
    return thresholds, np.concatenate(([base], totals[group_end]))


def best_threshold(
    files: list[LabelledFile], scores: list[np.ndarray], profile: Profile
) -> tuple[float, float]:
    """(threshold, raw score) maximising the corpus score; the highest threshold on ties, as NAB."""
    thresholds, totals = sweep(files, scores, profile)
    best = int(np.argmax(totals))
    return float(thresholds[best]), float(totals[best])


def null_score(files: list[LabelledFile], profile: Profile) -> float:
    return -profile.fn_weight * sum(f.windows_scored for f in files)


def perfect_score(files: list[LabelledFile], profile: Profile) -> float:
    return profile.tp_weight * sum(f.windows_labelled for f in files)


def normalise(raw: float, files: list[LabelledFile], profile: Profile) -> float:
    null, perfect = null_score(files, profile), perfect_score(files, profile)
    return 100.0 * (raw - null) / (perfect - null)
