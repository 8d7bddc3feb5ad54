"""The FastAPI application factory: `create_app(settings)`; heavy things are made in `lifespan`."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from app.api.routes import health, metrics, page
from app.api.routes.page import STATIC
from app.core.config import Settings
from app.core.db import make_engine, upgrade
from app.core.errors import ERROR_RESPONSES, document_database_busy, install_error_handlers
from app.core.http import RequestTelemetry, SecurityHeaders
from app.core.limits import BodyLimit
from app.core.logs import configure_logging
from app.core.ratelimit import RATE_LIMITED_RESPONSE, RateLimiter, RateLimits
from app.corrections import routes as corrections
from app.feedback import analyze
from app.feedback import routes as feedback
from app.jobs.workers import Workers
from app.journey import routes as journey
from app.journey.cache import ResponseCache
from app.journey.polling import ConditionalPolls
from app.learning import routes as learning
from app.reanalysis import routes as reanalysis
from app.schemas import FeedbackCreate
from app.taxonomy import routes as taxonomy
from app.uploads import routes as uploads
from app.workspaces import routes as workspaces
from app.workspaces.auth import KeyCache, request_workspace_id
from nlp.pipeline import Pipeline, load_pipeline

logger = logging.getLogger(__name__)

DESCRIPTION = """Voice-of-customer text mining: feedback in, customer-journey mentions out.

Every `/v1` call needs a workspace API key: `Authorization: Bearer KEY` (or `X-API-Key: KEY`).
Every error has the same body: `{"detail": "...", "code": "snake_case_code"}` (plus `errors` where items failed).
"""


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with the models that request bodies reference by hand (FeedbackBatch's items
    are validated one by one, so FastAPI does not collect FeedbackCreate itself)."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (FeedbackCreate,):
            found = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(found.pop("$defs", {}))
            components[model.__name__] = found
        document_database_busy(schema)
        app.openapi_schema = schema
    return app.openapi_schema


def create_app(settings: Settings | None = None, pipeline: Pipeline | None = None) -> FastAPI:
    """Build the service. `pipeline` may be given (tests share one); otherwise the configured model is loaded."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_format)  # here: after the server (uvicorn) has set up its own logging
        engine = make_engine(settings.database_url)
        if settings.auto_migrate:
            upgrade(engine)
        loaded = pipeline or load_pipeline(settings.model)
        loaded.analyze(["Mise en route : livraison rapide mais SAV injoignable."])  # load the models now
        gc.collect()
        gc.freeze()  # the models' millions of objects: out of the collector's sight, so polls see no long pauses
        app.state.engine, app.state.pipeline = engine, loaded
        manifest = loaded.manifest
        app.state.model_tag = f"{manifest.tag}-{manifest.training_data_sha256[:8]}" if manifest else "custom"
        app.state.response_cache = ResponseCache()
        app.state.key_cache = KeyCache(workspace_ttl=settings.workspace_ttl_seconds)
        app.state.rate_limiter = RateLimiter(settings)
        app.state.analysis_lock = threading.Lock()  # one analysis at a time: the CPU is shared anyway
        app.state.workers = Workers(engine, loaded, settings, app.state.analysis_lock) if settings.run_worker else None
        if app.state.workers is not None:
            app.state.workers.start()
        try:
            yield
        finally:
            if app.state.workers is not None:
                app.state.workers.stop()
            engine.dispose()

    try:
        version = metadata.version("parcours")
    except metadata.PackageNotFoundError:
        version = "dev"
    # /docs and /redoc with their scripts served by the service itself (fastapi-offline ships them): our
    # users' servers cannot reach a CDN.
    app = FastAPIOffline(
        title="Parcours",
        version=version,
        description=DESCRIPTION,
        lifespan=lifespan,
        responses={**ERROR_RESPONSES, 429: RATE_LIMITED_RESPONSE},
    )
    app.state.settings = settings
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    install_error_handlers(app)
    app.add_middleware(ConditionalPolls)
    app.add_middleware(BodyLimit, default=settings.max_body_bytes, files={"/v1/uploads": settings.max_upload_bytes})
    app.add_middleware(RateLimits, workspace_of=request_workspace_id)  # outside the polls: 429 for them too
    # FastAPIOffline's pages (it serves them itself: app.docs_url and app.redoc_url stay None)
    app.add_middleware(SecurityHeaders, docs_paths=("/docs", "/redoc", "/docs/oauth2-redirect"))
    app.add_middleware(RequestTelemetry)  # outermost: sees every answer, the middlewares' own included
    routers = (feedback, corrections, learning, uploads, analyze, journey, taxonomy, reanalysis, workspaces, health,
               metrics)  # fmt: skip
    for module in (*routers, page):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
