"""The event store's own threads: a bounded executor for blocking domain calls, apart from the rest."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from pdm.api.admission import Budget
from pdm.settings import ApiSettings

T = TypeVar("T")
RETRY_AFTER_S = 2


class CommandExecutor:
    """Runs event-store calls on `command_threads` threads of their own, with at most
    `command_max_queued` more waiting.

    `asyncio.to_thread` would put them on the loop's default executor (min(32, cores + 4)
    threads: 6 on two cores), which key loading, readiness checks and the Kafka client's DNS
    lookups also need; a burst of slow commands would stall those behind it, and its queue has no
    bound. Here a call past the bound is refused at once with 503 `commands_overloaded`.

    A slot is given back when the thread finishes, not when the request ends: a client that
    hangs up leaves its call running, and that call still occupies a thread.
    """

    def __init__(self, threads: int, max_queued: int) -> None:
        self.threads = ThreadPoolExecutor(threads, thread_name_prefix="pdm-commands")
        self.budget = Budget(threads + max_queued, "commands_overloaded", "event-store calls",
                             RETRY_AFTER_S)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` on a command thread, with the caller's context (correlation id)."""
        hold = self.budget.hold()
        hold.take(1)
        loop = asyncio.get_running_loop()
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        try:
            future = self.threads.submit(call)
        except BaseException:
            hold.release()
            raise
        future.add_done_callback(lambda _: _release_on(loop, hold.release))
        return await asyncio.wrap_future(future)

    def shutdown(self) -> None:
        """Calls not started are cancelled; running ones finish before the event store closes."""
        self.threads.shutdown(wait=True, cancel_futures=True)


def command_executor(state: Any) -> CommandExecutor:
    """The app's executor (`app.state`), made on first use: tests that set `app.state.domain`
    without running the lifespan get one too."""
    executor: CommandExecutor | None = getattr(state, "commands", None)
    if executor is None:
        api: ApiSettings = state.settings.api
        executor = state.commands = CommandExecutor(api.command_threads, api.command_max_queued)
    return executor


def shutdown_command_executor(state: Any) -> None:
    if (executor := getattr(state, "commands", None)) is not None:
        executor.shutdown()


def _release_on(loop: asyncio.AbstractEventLoop, release: Callable[[], None]) -> None:
    """The budget is the event loop's (no lock); a worker thread hands the release back to it."""
    with contextlib.suppress(RuntimeError):  # the loop closed: nothing is left to admit
        loop.call_soon_threadsafe(release)
