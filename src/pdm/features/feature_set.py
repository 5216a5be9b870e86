"""Named, versioned feature sets: which channels, which window, which statistics."""

from __future__ import annotations

from dataclasses import dataclass

from pdm.features.statistics import STATISTICS, STATISTICS_REVISION
from pdm.features.windows import WindowSpec


class UnknownStatisticError(ValueError):
    """A feature set names a statistic this code does not implement."""


@dataclass(frozen=True)
class FeatureSet:
    """What a model was trained on; its `tag` travels on every feature row and score.

    `version` is bumped by hand when the definition changes; the tag also carries
    STATISTICS_REVISION, so a change of formula changes every tag even if nobody bumps it.
    """

    name: str
    version: int
    channels: tuple[str, ...]
    window: WindowSpec
    statistics: tuple[str, ...] = ("mean", "std", "min", "max", "rms", "p2p", "slope")

    def __post_init__(self) -> None:
        unknown = [s for s in self.statistics if s not in STATISTICS]
        if unknown:
            raise UnknownStatisticError(f"unknown statistics {unknown}; known: {sorted(STATISTICS)}")
        if not self.channels:
            raise ValueError("a feature set needs at least one channel")

    @property
    def tag(self) -> str:
        return f"{self.name}/v{self.version}+stats{STATISTICS_REVISION}/{self.window.label}"

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f"{c}.{s}" for c in self.channels for s in self.statistics)

    def channel_of(self, feature_index: int) -> str:
        return self.channels[feature_index // len(self.statistics)]
