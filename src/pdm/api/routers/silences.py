"""POST /v1/silences: mute an asset or a whole site for a while; a retried request adds nothing."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import AwareDatetime

from pdm.api.routers._commands import Accepted, Body, CallerDep, DomainDep, Name, blocking
from pdm.domain.silences import SilenceScope, silence_id_for

router = APIRouter(prefix="/v1/silences", tags=["silences"])


class CreateSilenceBody(Body):
    scope: SilenceScope
    target: Name
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: str
    by: Name
    silence_id: Name | None = None


class SilenceAccepted(Accepted):
    silence_id: str


@router.post("", response_model=SilenceAccepted,
             responses={422: {"description": "ends before it starts (`invalid_silence`)"}})
async def create_silence(body: CreateSilenceBody, caller: CallerDep, domain: DomainDep) -> SilenceAccepted:
    """Without `silence_id` the id derives from the content, so retrying is idempotent."""
    b = body
    sid = b.silence_id or silence_id_for(b.scope, b.target, b.starts_at, b.ends_at, b.reason)
    position = await blocking(domain.create_silence, b.scope, b.target, b.starts_at, b.ends_at, b.reason,
                              b.by, silence_id=sid, **caller.audit(b.by))
    return SilenceAccepted(position=position, silence_id=sid)
