"""Where a replay reads from, as one object: the archive (default) or the Kafka log."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pdm.replay.archive import ArchiveRange, Progress, count_rows, watermark_of
from pdm.replay.history import DEFAULT_FLAGS, FlagPolicy, History
from pdm.replay.kafka import LogPosition, kafka_history
from pdm.replay.run import histories
from pdm.settings import Settings


@dataclass(frozen=True)
class ReplaySource:
    """A time range and assets of history, read from `source` ("archive" or "kafka")."""

    settings: Settings
    start: datetime
    end: datetime
    assets: tuple[str, ...] = ()
    source: str = "archive"
    policy: FlagPolicy = DEFAULT_FLAGS
    watermark: datetime | None = None
    position: LogPosition = field(default_factory=LogPosition)

    @property
    def span(self) -> ArchiveRange:
        return ArchiveRange(self.start, self.end, self.assets, self.watermark)

    def _pg(self) -> tuple[str, str]:
        return self.settings.postgres.conninfo(), self.settings.postgres.schema_name

    def total(self) -> int | None:
        """Readings the progress bar expects (archive only: the log's count is known as it goes)."""
        return count_rows(*self._pg(), self.span) if self.source == "archive" else None

    def current_watermark(self) -> datetime | None:
        return watermark_of(*self._pg(), self.span) if self.source == "archive" else None

    def histories(self, channels: Sequence[str], progress: Progress | None = None) -> Iterator[History]:
        if self.source == "kafka":
            yield kafka_history(self.settings.kafka, channels, self.position, self.start, self.end,
                                self.assets, self.policy, progress)
            return
        yield from histories(*self._pg(), self.span, channels, self.policy, progress)
