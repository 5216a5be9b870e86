"""The event store's executor: a fixed number of threads and waiting calls, refused past them."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil
import threading
from contextvars import ContextVar

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from pdm.api import routers
from pdm.api.commands_executor import CommandExecutor
from pdm.api.errors import ApiError
from pdm.api.routers._commands import get_event_store

ROUTERS = [importlib.import_module(f"pdm.api.routers.{m.name}") for m in pkgutil.iter_modules(routers.__path__)
           if not m.name.startswith("_")]


async def test_call_past_threads_and_queue_is_refused_at_once_and_admitted_once_one_finishes() -> None:
    executor, gate = CommandExecutor(threads=1, max_queued=1), threading.Event()
    running = [asyncio.create_task(executor.run(gate.wait, 5)) for _ in range(2)]
    await asyncio.sleep(0.05)

    with pytest.raises(ApiError) as refused:
        await executor.run(lambda: "never")
    gate.set()
    await asyncio.gather(*running)
    await asyncio.sleep(0)  # the release is handed back to the loop by the worker thread

    assert (refused.value.status, refused.value.code) == (503, "commands_overloaded")
    assert refused.value.headers == {"Retry-After": "2"}
    assert refused.value.details == {"limit": 2, "held": 2, "requested": 1}
    assert await executor.run(lambda: "admitted") == "admitted"
    executor.shutdown()


async def test_a_cancelled_caller_keeps_its_slot_until_its_thread_is_done() -> None:
    executor, gate = CommandExecutor(threads=1, max_queued=0), threading.Event()
    caller = asyncio.create_task(executor.run(gate.wait, 5))
    await asyncio.sleep(0.05)

    caller.cancel()
    await asyncio.sleep(0.05)
    held_while_running = executor.budget.held
    gate.set()
    await asyncio.sleep(0.1)

    assert held_while_running == 1  # the thread still runs the call: admitting more would queue
    assert executor.budget.held == 0
    executor.shutdown()


async def test_calls_run_on_the_executors_own_threads_with_the_callers_context() -> None:
    executor, correlation_id = CommandExecutor(threads=2, max_queued=0), ContextVar[str]("correlation_id")
    correlation_id.set("c-42")

    name, seen = await executor.run(lambda: (threading.current_thread().name, correlation_id.get()))

    assert name.startswith("pdm-commands") and seen == "c-42"
    executor.shutdown()


def test_every_route_calling_blocking_depends_on_the_event_store_that_sets_its_executor() -> None:
    """`blocking` finds the executor through `get_event_store`; a route without that dependency
    would fail every call with a LookupError (a 500), so none may exist."""
    routes = [r for module in ROUTERS for r in module.router.routes if isinstance(r, APIRoute)]
    calling = [r for r in routes if "blocking(" in inspect.getsource(r.endpoint)]

    missing = [r.path for r in calling if get_event_store not in {d.call for d in _all_dependencies(r.dependant)}]

    assert len(calling) >= 10 and missing == [], missing


def _all_dependencies(dependant: Dependant) -> list[Dependant]:
    return [d for sub in dependant.dependencies for d in (sub, *_all_dependencies(sub))]
