"""What every command route shares: who is asking, the domain in a thread, the position back."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Annotated, Any, TypeVar

import structlog
from fastapi import Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field

from pdm.api.commands_executor import CommandExecutor, command_executor
from pdm.api.errors import ApiError
from pdm.domain.application import PdmApplication

T = TypeVar("T")
DEFAULT_ACTOR = "api"
Name = Annotated[str, Field(min_length=1, max_length=200)]


class Body(BaseModel):
    """Request bodies refuse unknown fields, so a typo is a 422 rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Accepted(BaseModel):
    """`position` is the event-store position after the command: wait for read models to reach it."""

    position: int


class Caller(BaseModel):
    actor: str
    correlation_id: str

    def audit(self, by: str | None = None) -> dict[str, str]:
        """A body's `by` is the actor where the domain asks who did it; else the API key's name."""
        return {"actor": by or self.actor, "correlation_id": self.correlation_id}


def get_caller(request: Request, x_actor: Annotated[str | None, Header()] = None) -> Caller:
    """The correlation id is the one the middleware bound, so events and log lines agree."""
    bound = structlog.contextvars.get_contextvars().get("correlation_id")
    correlation_id = bound or request.headers.get("x-correlation-id", "")[:64] or "api"
    key_name = getattr(request.state, "actor", None)  # set by the auth middleware; beats X-Actor
    return Caller(actor=(key_name or x_actor or DEFAULT_ACTOR)[:200], correlation_id=correlation_id)


# The executor of the request being served, set with the event store it serves: every route
# that calls `blocking` depends on the event store, so its calls run on the app's own threads.
_executor: ContextVar[CommandExecutor] = ContextVar("command_executor")


async def get_event_store(request: Request) -> PdmApplication:  # async: no thread hop per request
    domain: PdmApplication | None = request.app.state.domain
    if domain is None:
        raise ApiError(503, "event_store_unavailable", "the event store is not configured",
                       headers={"Retry-After": "5"})
    _executor.set(command_executor(request.app.state))  # async dependency: the route's own context
    return domain


CallerDep = Annotated[Caller, Depends(get_caller)]
DomainDep = Annotated[PdmApplication, Depends(get_event_store)]


async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Domain calls block on PostgreSQL: off the event loop, or one slow save stalls every request;
    and on the event store's bounded threads, or a burst of them stalls every other thread user."""
    return await _executor.get().run(fn, *args, **kwargs)
