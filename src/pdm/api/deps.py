"""Typed FastAPI dependencies: everything a route needs comes from the app's composition root."""

from __future__ import annotations

from fastapi import Request

from pdm.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]
