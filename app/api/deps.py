"""Request dependencies: database session, pipeline, the caller's workspace, and look-ups that 404."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy import select, update
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import reader, session_scope
from app.core.errors import AppError, NotFound
from app.core.security import hash_api_key, same_secret
from app.models import ApiKey, Feedback, Upload, Workspace, utcnow
from app.worker import Workers
from nlp.pipeline import Pipeline

_LAST_USED_RESOLUTION = timedelta(minutes=5)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """Yield the request's session: read-only for GET and HEAD (on SQLite it then never waits for writers)."""
    engine = request.app.state.engine
    if request.method in ("GET", "HEAD"):
        engine = reader(engine)
    with Session(engine, expire_on_commit=False) as session:
        yield session


def get_pipeline(request: Request) -> Pipeline:
    return request.app.state.pipeline


def get_analysis_lock(request: Request) -> threading.Lock:
    return request.app.state.analysis_lock


def get_workers(request: Request) -> Workers | None:
    return request.app.state.workers


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]
WorkersDep = Annotated[Workers | None, Depends(get_workers)]
AnalysisLockDep = Annotated[threading.Lock, Depends(get_analysis_lock)]


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def get_workspace(
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer KEY")] = None,
    x_api_key: Annotated[str | None, Header(description="KEY (alternative to Authorization)")] = None,
) -> Workspace:
    """Return the workspace of the API key in `Authorization: Bearer KEY` or `X-API-Key: KEY`.

    The look-up uses its own short transactions, so that the request's session has taken no lock yet.
    """
    key = _bearer(authorization) or (x_api_key.strip() if x_api_key else None)
    if not key:
        raise AppError(
            401,
            "missing_api_key",
            "An API key is required: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    engine = request.app.state.engine
    with Session(reader(engine), expire_on_commit=False) as session:
        api_key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(key)))
        workspace = session.get(Workspace, api_key.workspace_id) if api_key is not None else None
    if api_key is None or api_key.revoked_at is not None or workspace is None:
        raise AppError(
            401,
            "invalid_api_key",
            "The API key is not valid (unknown or revoked)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    now = utcnow()
    if api_key.last_used_at is None or now - api_key.last_used_at > _LAST_USED_RESOLUTION:
        with session_scope(engine) as writer:
            writer.execute(update(ApiKey).where(ApiKey.id == api_key.id).values(last_used_at=now))
    return workspace


WorkspaceDep = Annotated[Workspace, Depends(get_workspace)]


def require_admin(
    settings: SettingsDep, authorization: Annotated[str | None, Header(description="Bearer ADMIN_TOKEN")] = None
) -> None:
    """Let the request through only with the admin token (PARCOURS_ADMIN_TOKEN)."""
    if not settings.admin_token:
        raise AppError(403, "admin_disabled", "Admin endpoints are off: set PARCOURS_ADMIN_TOKEN to enable them")
    token = _bearer(authorization)
    if not token or not same_secret(token, settings.admin_token):
        raise AppError(401, "invalid_admin_token", "Admin endpoints need 'Authorization: Bearer ADMIN_TOKEN'")


AdminDep = Annotated[None, Depends(require_admin)]


def valid_feedback(feedback_id: int, workspace: WorkspaceDep, session: SessionDep) -> Feedback:
    """Return the caller's feedback `feedback_id`, or 404 (also for another workspace's id)."""
    feedback = session.get(Feedback, feedback_id)
    if feedback is None or feedback.workspace_id != workspace.id:
        raise NotFound("feedback", feedback_id)
    return feedback


def valid_upload(upload_id: int, workspace: WorkspaceDep, session: SessionDep) -> Upload:
    """Return the caller's upload `upload_id`, or 404 (also for another workspace's id)."""
    upload = session.get(Upload, upload_id)
    if upload is None or upload.workspace_id != workspace.id:
        raise NotFound("upload", upload_id)
    return upload


FeedbackDep = Annotated[Feedback, Depends(valid_feedback)]
UploadDep = Annotated[Upload, Depends(valid_upload)]
