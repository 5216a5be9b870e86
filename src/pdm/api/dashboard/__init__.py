"""The dashboard: static HTML, JS and CSS served by the API under /dashboard/, no build step."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

HERE = Path(__file__).parent
PREFIX = "/dashboard"


def install_dashboard(app: FastAPI) -> None:
    """Served without a key (the files hold no data); every call the page makes carries one."""
    app.add_api_route(PREFIX, lambda: RedirectResponse(PREFIX + "/"), include_in_schema=False)
    app.mount(PREFIX, StaticFiles(directory=HERE, html=True), name="dashboard")
