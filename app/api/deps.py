"""Request dependencies: settings, database session, pipeline, workers, the caller's workspace (see
`app.workspaces.auth`), the admin token, and look-ups that 404 outside the caller's workspace."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from typing import Annotated, Protocol, TypeVar

from fastapi import Depends, Header, Path, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import reader
from app.core.errors import AppError, NotFound
from app.core.security import same_secret
from app.jobs.workers import Workers
from app.models import Feedback, Upload, Workspace
from app.workspaces.auth import bearer_token, get_workspace
from nlp.pipeline import Pipeline

# Dependencies that only read app state are `async def`: FastAPI runs plain `def` dependencies in its
# thread pool, and a thread hop per dependency is most of the cost of a 304 answer to a dashboard poll.


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """Yield the request's session: read-only for GET and HEAD (on SQLite it then never waits for writers).

    The session connects lazily, in the (threaded) route that uses it; closing it may talk to the database,
    so it is done in the thread pool.
    """
    engine = request.app.state.engine
    if request.method in ("GET", "HEAD"):
        engine = reader(engine)
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:  # never connected (e.g. a 304): nothing to release
            session.close()


async def get_pipeline(request: Request) -> Pipeline:
    return request.app.state.pipeline


async def get_analysis_lock(request: Request) -> threading.Lock:
    return request.app.state.analysis_lock


async def get_workers(request: Request) -> Workers | None:
    return request.app.state.workers


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]
WorkersDep = Annotated[Workers | None, Depends(get_workers)]
AnalysisLockDep = Annotated[threading.Lock, Depends(get_analysis_lock)]


WorkspaceDep = Annotated[Workspace, Depends(get_workspace)]


async def require_admin(
    request: Request,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header(description="Bearer ADMIN_TOKEN")] = None,
) -> None:
    """Let the request through only with the admin token (PARCOURS_ADMIN_TOKEN).

    A wrong token counts as a failed authentication of the client address, as a wrong API key does.
    """
    if not settings.admin_token:
        raise AppError(403, "admin_disabled", "Admin endpoints are off: set PARCOURS_ADMIN_TOKEN to enable them")
    token = bearer_token(authorization)
    if not token or not same_secret(token, settings.admin_token):
        if token:
            await request.app.state.rate_limiter.failed_authentication(request.scope)
        raise AppError(401, "invalid_admin_token", "Admin endpoints need 'Authorization: Bearer ADMIN_TOKEN'")


AdminDep = Annotated[None, Depends(require_admin)]


# Row ids are INTEGER columns: 32-bit on PostgreSQL (SQLite's hold 64). An id outside them names no row: it is
# answered 404 like any unknown id, before the database is asked (the driver would refuse to send it: a 500).
ID_RANGE = range(-(2**31), 2**31)


class _Owned(Protocol):
    workspace_id: int


RowT = TypeVar("RowT", bound=_Owned)


def owned(session: Session, model: type[RowT], row_id: int, workspace: Workspace, what: str) -> RowT:
    """Return the `model` row `row_id` of the caller's workspace, or 404 (another workspace's id, one out of range)."""
    row = session.get(model, row_id) if row_id in ID_RANGE else None
    if row is None or row.workspace_id != workspace.id:
        raise NotFound(what, row_id)
    return row


def valid_feedback(
    feedback_id: Annotated[int, Path(description="The feedback's id, as POST /v1/feedback returned it.")],
    workspace: WorkspaceDep,
    session: SessionDep,
) -> Feedback:
    """Return the caller's feedback `feedback_id`, or 404 (also for another workspace's id, or one out of range)."""
    return owned(session, Feedback, feedback_id, workspace, "feedback")


def valid_upload(
    upload_id: Annotated[int, Path(description="The upload's id, as POST /v1/uploads returned it.")],
    workspace: WorkspaceDep,
    session: SessionDep,
) -> Upload:
    """Return the caller's upload `upload_id`, or 404 (also for another workspace's id, or one out of range)."""
    return owned(session, Upload, upload_id, workspace, "upload")


FeedbackDep = Annotated[Feedback, Depends(valid_feedback)]
UploadDep = Annotated[Upload, Depends(valid_upload)]
