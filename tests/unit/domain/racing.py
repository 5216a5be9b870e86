"""Two processes on one store, and a store that lets a rival write first."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, StoredEvent

from pdm.domain.application import PdmApplication


class SharedRecorderApplication(PdmApplication):
    """A second process: its own application object, the same event store."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self._shared = recorder
        super().__init__(env={"PDM_PERSISTENCE_MODULE": "eventsourcing.popo"})

    def construct_recorder(self) -> ApplicationRecorder:
        return self._shared


class RacingRecorder(ApplicationRecorder):
    """Runs `rival` once, just before this writer's first insert reaches the store."""

    def __init__(self, inner: ApplicationRecorder, rival: Callable[[], Any]) -> None:
        self.inner: ApplicationRecorder = inner
        self.rival: Callable[[], Any] | None = rival

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        rival, self.rival = self.rival, None
        if rival is not None:
            rival()
        return self.inner.insert_events(stored_events, **kwargs)

    def select_events(self, originator_id: Any, **kwargs: Any) -> Any:
        return self.inner.select_events(originator_id, **kwargs)

    def select_notifications(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner.select_notifications(*args, **kwargs)

    def max_notification_id(self) -> int | None:
        return self.inner.max_notification_id()

    def subscribe(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner.subscribe(*args, **kwargs)
