"""Typed FastAPI dependencies: everything a route needs comes from the app's composition root."""

from __future__ import annotations

from fastapi import Request

from pdm.domain.application import PdmApplication
from pdm.ingest.publisher import ReadingPublisher
from pdm.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_domain(request: Request) -> PdmApplication:
    """The event-sourced application; its calls block, so routes run them in a thread."""
    return request.app.state.domain  # type: ignore[no-any-return]


def get_publisher(request: Request) -> ReadingPublisher:
    return request.app.state.publisher  # type: ignore[no-any-return]
