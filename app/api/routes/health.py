"""Health: up and ready (database reachable and migrated, model loaded); public, so it names no figures.

Operators' figures (queue depths, throughput, latencies) are on GET /metrics.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.core.db import current_revision, head_revision, reader
from app.journey.answers import HealthAnswer

logger = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get(
    "/health",
    summary="Service health",
    responses={
        200: {"model": HealthAnswer, "description": "Healthy."},
        503: {"model": HealthAnswer, "description": "Degraded: the database is unreachable or not migrated."},
    },
)
def health(request: Request) -> JSONResponse:
    """Report the database (backend, migration revision) and the model (name, version, embedder); 503 if down."""
    engine, pipeline = request.app.state.engine, request.app.state.pipeline
    database: dict[str, Any] = {"backend": engine.dialect.name}
    try:
        with reader(engine).connect() as connection:
            connection.execute(text("SELECT 1"))
            database["revision"] = current_revision(connection)
            database["head"] = head_revision()
        database["ok"] = database["revision"] == database["head"]
    except Exception as error:  # health must answer whatever is broken; the details (hosts, users) go to the log
        logger.exception("health: the database is unreachable")
        database.update(ok=False, error=type(error).__name__)
    manifest = pipeline.manifest
    model = {
        "name": manifest.tag if manifest else None,
        "embedder": pipeline.embedder.name,
        "trained": manifest.created if manifest else None,
        "taxonomy": manifest.taxonomy_fingerprint if manifest else None,
        "libraries": manifest.libraries if manifest else {},
    }
    workers = request.app.state.workers
    ok = bool(database["ok"])
    body = {"status": "ok" if ok else "degraded", "database": database, "model": model, "workers": workers is not None}
    return JSONResponse(body, status_code=200 if ok else 503)
