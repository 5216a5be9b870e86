"""Each partition's events processed in offset order, with none skipped, whatever Faust delivers.

Faust 0.15.3 can hand a stream an event past the one it should process next, around a
rebalance: a fetch made before the rebalance is still being drained after the consumer was
seeked back to the committed offset (faust-streaming issues #216 and #221). Its consumer
then drops the re-fetched earlier messages as already read (`_drain_messages` keeps only
offsets at or above its read offset), and its commit moves past them: `_new_offset` accepts
acked offsets that start one above the committed offset, so a never-processed message at
the committed offset is committed over. For the scorer that is lost readings, and worse,
the later readings raise the asset's `last_ts_ms` so the earlier ones, if they came back,
would be dropped as redeliveries.

`OffsetOrder` holds, per partition, the offset the next processed event must have. An event
past it is not processed and not acknowledged, and the partition is seeked back to the
missing offset, so the consumer fetches it again (Faust's `seek` also resets its read offset).
Events below it are redeliveries of processed ones and go through: processing is idempotent.
After a rebalance the next offset of each partition is its committed offset.

A topic whose log has real holes (compacted, or written by transactional producers, neither
of which pdm's input topics are) would not yield the missing offset however often we seek:
after `GIVE_UP_SEEKS` seeks over at least `GIVE_UP_S` seconds the hole is accepted and logged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from faust.types import TP

from pdm.logs import get_logger

log = get_logger(__name__)
GIVE_UP_SEEKS = 6
GIVE_UP_S = 5.0


@dataclass
class _Seek:
    offset: int
    count: int
    first_at: float


@dataclass
class OffsetStats:
    held_back: int = 0
    """Events delivered past their partition's next offset, not processed (fetched again)."""
    holes_accepted: int = 0
    """Offsets given up on after repeated seeks (a hole in the log)."""


@dataclass(frozen=True)
class Admitted:
    keep: list[int]
    """Indexes of the events to process (and acknowledge once processed), in delivery order."""
    seeks: dict[TP, int]
    """Partitions to seek back, to the offset each must deliver next."""


class OffsetOrder:
    def __init__(self, committed: Callable[[TP], int | None], epoch: Callable[[], int],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.committed, self.epoch, self.clock = committed, epoch, clock
        self._epoch = epoch()
        self._next: dict[TP, int] = {}
        self._seeking: dict[TP, _Seek] = {}
        self.stats = OffsetStats()

    @classmethod
    def of(cls, app: Any) -> OffsetOrder:
        """Faust's committed offsets (as seeked to after the last rebalance and moved by each commit
        since: `Consumer._committed_offset`, which has no public accessor; offset 0 is stored as
        None, so a partition committed at 0 counts as uncommitted) and its rebalance count."""
        return cls(lambda tp: app.consumer._committed_offset.get(tp), lambda: app.rebalancing_count)

    def admit(self, events: Sequence[tuple[TP, int]]) -> Admitted:
        if self.epoch() != self._epoch:  # a rebalance: partitions restart from their committed offsets
            self._epoch = self.epoch()
            self._next.clear()
            self._seeking.clear()
        keep: list[int] = []
        seeks: dict[TP, int] = {}
        for i, (tp, offset) in enumerate(events):
            expected = self._next.get(tp)
            if expected is None:
                expected = self.committed(tp)
                if expected is None:  # nothing committed yet: the first event fixes the start
                    expected = offset
            if offset > expected and not self._accept_hole(tp, expected, offset):
                self.stats.held_back += 1
                seeks[tp] = expected
                continue
            keep.append(i)
            if offset >= expected:
                self._next[tp] = offset + 1
                self._seeking.pop(tp, None)
            else:
                self._next[tp] = expected
        for tp, offset in seeks.items():
            self._note_seek(tp, offset)
        return Admitted(keep, seeks)

    def _note_seek(self, tp: TP, offset: int) -> None:
        seek = self._seeking.get(tp)
        if seek is None or seek.offset != offset:
            self._seeking[tp] = _Seek(offset, 1, self.clock())
        else:
            seek.count += 1

    def _accept_hole(self, tp: TP, expected: int, offset: int) -> bool:
        seek = self._seeking.get(tp)
        if seek is None or seek.offset != expected:
            return False
        if seek.count < GIVE_UP_SEEKS or self.clock() - seek.first_at < GIVE_UP_S:
            return False
        self.stats.holes_accepted += 1
        log.error("offset_hole_accepted", topic=tp.topic, partition=tp.partition, missing_from=expected,
                  resumed_at=offset, seeks=seek.count)
        return True


async def seek_back(consumer: Any, seeks: dict[TP, int]) -> None:
    """Seek each partition back to the offset it skipped. Faust's gap bookkeeping for the partition
    is dropped too: it marks offsets it saw skipped as acknowledged for the next commit, and these
    offsets are coming again, to be processed and acknowledged one by one."""
    for tp, offset in seeks.items():
        log.warning("offset_skipped_seeking_back", topic=tp.topic, partition=tp.partition, offset=offset)
        try:
            await consumer.seek(tp, offset)
        except Exception as exc:  # revoked meanwhile: the rebalance restarts it from its committed offset
            log.warning("seek_back_failed", topic=tp.topic, partition=tp.partition, error=repr(exc))
            continue
        consumer._gap.pop(tp, None)
