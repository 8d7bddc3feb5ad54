"""The journey map page: static files served by the service itself (no CDN: servers may be offline)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parent.parent.parent / "static"
router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    """Serve the journey map page (it asks for the workspace API key, or reads it from `#key=`)."""
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


@router.get("/report")
def report() -> FileResponse:
    """Serve the printable one-page report for management."""
    return FileResponse(STATIC / "report.html", headers={"Cache-Control": "no-cache"})
