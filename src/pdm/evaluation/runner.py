"""Replay labelled CSV directories through a streaming detector and score them the NAB way."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pdm.detection.novelty import DEFAULT_THRESHOLD
from pdm.evaluation import nab_scoring as nab
from pdm.evaluation.detectors import DEFAULT_DETECTOR
from pdm.evaluation.detectors import detector_factory as named_detector
from pdm.evaluation.metrics import PointMetrics, point_metrics
from pdm.evaluation.replay import DEFAULT_CHUNK, DetectorFactory, read_series, read_windows, replay
from pdm.evaluation.report import NabReport, ProfileResult

Progress = Callable[[int, int], None]


def evaluate_directory(
    data_dir: Path,
    labels_file: Path,
    detector_factory: DetectorFactory,
    threshold: float | None = None,
    *,
    chunk: int = DEFAULT_CHUNK,
    progress: Progress | None = None,
) -> NabReport:
    """Score every CSV named in `labels_file`, each replayed causally with a fresh detector.

    Reports the corpus-optimised threshold per profile (NAB's scoreboard) and, when
    `threshold` is given, the same profiles at that threshold fixed in advance.
    """
    started = time.perf_counter()
    windows = read_windows(Path(labels_file))
    files, scores = [], []
    for done, name in enumerate(windows, start=1):
        series = read_series(Path(data_dir) / name, name)
        scores.append(replay(detector_factory(), series.values, chunk))
        files.append(nab.label_file(name, series.ts, windows[name]))
        if progress is not None:
            progress(done, len(windows))
    results = _profile_results(files, scores, threshold)
    point_threshold = threshold if threshold is not None else results[0].threshold
    probe = detector_factory()
    return NabReport(
        detector=getattr(probe, "algorithm", type(probe).__name__),
        params=probe.params.as_dict() if hasattr(probe, "params") else {},
        files=len(files),
        rows=sum(f.rows for f in files),
        seconds=time.perf_counter() - started,
        results=results,
        point=_corpus_point_metrics(files, scores, point_threshold),
        point_threshold=point_threshold,
        per_file={
            f.name: nab.file_score(f, s, point_threshold, nab.PROFILES[0])
            for f, s in zip(files, scores, strict=True)
        },
    )


def _profile_results(
    files: list[nab.LabelledFile], scores: list[np.ndarray], threshold: float | None
) -> list[ProfileResult]:
    results = []
    for profile in nab.PROFILES:
        best, raw = nab.best_threshold(files, scores, profile)
        results.append(_result(files, scores, profile, "corpus_optimised", best, raw))
        if threshold is not None:
            raw = sum(nab.file_score(f, s, threshold, profile) for f, s in zip(files, scores, strict=True))
            results.append(_result(files, scores, profile, "fixed", threshold, raw))
    return results


def _result(
    files: list[nab.LabelledFile],
    scores: list[np.ndarray],
    profile: nab.Profile,
    mode: str,
    threshold: float,
    raw: float,
) -> ProfileResult:
    detected = false_positives = 0
    for f, s in zip(files, scores, strict=True):
        fired = f.scored & (s >= threshold)
        detected += len(np.unique(f.window[fired & (f.window >= 0)]))
        false_positives += int((fired & (f.window < 0)).sum())
    return ProfileResult(
        profile.name,
        mode,
        threshold,
        raw,
        nab.normalise(raw, files, profile),
        detected,
        sum(f.windows_labelled for f in files),
        false_positives,
    )


def _corpus_point_metrics(
    files: list[nab.LabelledFile], scores: list[np.ndarray], threshold: float
) -> PointMetrics:
    total = PointMetrics(0, 0, 0, 0)
    for f, s in zip(files, scores, strict=True):
        total = total + point_metrics(f.window[f.scored] >= 0, s[f.scored] >= threshold)
    return total


def run_nab(
    data_dir: Path,
    labels_dir: Path,
    *,
    threshold: float | None,
    progress: Progress | None = None,
    detector_factory: DetectorFactory | None = None,
    detector: str | None = None,
) -> NabReport:
    """`pdm eval` on the NAB corpus: `labels_dir` holds combined_windows.json.

    With `threshold=None` the detector's own default (fixed before any labels) is also reported.
    `detector` picks a streaming detector by name (`pdm.evaluation.detectors`).
    """
    fixed = DEFAULT_THRESHOLD if threshold is None else threshold
    labels = Path(labels_dir) / "combined_windows.json"
    factory = detector_factory or named_detector(detector or DEFAULT_DETECTOR)
    return evaluate_directory(Path(data_dir), labels, factory, fixed, progress=progress)


def run_labelled(
    data_dir: Path,
    labels_file: Path,
    *,
    threshold: float | None,
    progress: Progress | None = None,
    detector_factory: DetectorFactory | None = None,
    detector: str | None = None,
) -> NabReport:
    """Any directory of CSVs with a windows file in NAB's format (the simulator writes one)."""
    fixed = DEFAULT_THRESHOLD if threshold is None else threshold
    factory = detector_factory or named_detector(detector or DEFAULT_DETECTOR)
    return evaluate_directory(Path(data_dir), Path(labels_file), factory, fixed, progress=progress)
