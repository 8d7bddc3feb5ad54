"""Request dependencies: database session, pipeline, the caller's workspace, and look-ups that 404."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from sqlalchemy import select, update
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import reader, session_scope
from app.core.errors import AppError, NotFound
from app.core.security import hash_api_key, same_secret
from app.crud import FeedbackFilters
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


@dataclass(frozen=True)
class _KeyEntry:
    api_key_id: int
    workspace_id: int
    checked: float  # time.monotonic() of the database check


class KeyCache:
    """API key hash -> workspace, remembered for `ttl` seconds: a dashboard poll costs one primary-key read.

    A revoked key therefore stops working within `ttl` seconds in every process.
    """

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._entries: dict[str, _KeyEntry] = {}
        self._lock = threading.Lock()

    def get(self, key_hash: str) -> _KeyEntry | None:
        entry = self._entries.get(key_hash)
        return entry if entry is not None and time.monotonic() - entry.checked < self.ttl else None

    def put(self, key_hash: str, entry: _KeyEntry) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[key_hash] = entry


def get_workspace(
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer KEY")] = None,
    x_api_key: Annotated[str | None, Header(description="KEY (alternative to Authorization)")] = None,
) -> Workspace:
    """Return the workspace of the API key in `Authorization: Bearer KEY` or `X-API-Key: KEY`.

    The look-up uses its own short transactions, so that the request's session has taken no lock yet.
    The workspace row is read on every request (its data version decides ETags); the key check is cached.
    """
    key = _bearer(authorization) or (x_api_key.strip() if x_api_key else None)
    invalid = AppError(
        401, "invalid_api_key", "The API key is not valid (unknown or revoked)", headers={"WWW-Authenticate": "Bearer"}
    )
    if not key:
        raise AppError(
            401,
            "missing_api_key",
            "An API key is required: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    engine = request.app.state.engine
    keys: KeyCache = request.app.state.key_cache
    key_hash = hash_api_key(key)
    entry = keys.get(key_hash)
    if entry is None:
        table = ApiKey.__table__.c
        with reader(engine).connect() as connection:
            row = connection.execute(
                select(table.id, table.workspace_id, table.revoked_at, table.last_used_at).where(
                    table.key_hash == key_hash
                )
            ).first()
        if row is None or row.revoked_at is not None:
            raise invalid
        entry = _KeyEntry(row.id, row.workspace_id, time.monotonic())
        keys.put(key_hash, entry)
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at > _LAST_USED_RESOLUTION:
            with session_scope(engine) as writer:
                writer.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
    with reader(engine).connect() as connection:
        found = connection.execute(
            select(Workspace.__table__).where(Workspace.__table__.c.id == entry.workspace_id)
        ).first()
    if found is None:
        raise invalid
    return Workspace.model_validate(dict(found._mapping))


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


def _metadata_pairs(values: list[str]) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, wanted = value.partition("=")
        if not sep or not key:
            raise AppError(422, "invalid_filter", f"metadata filter '{value}' must be key=value")
        pairs[key] = wanted
    return pairs


def feedback_filters(
    date_from: Annotated[date | datetime | None, Query(description="Feedback written on or after (ISO date).")] = None,
    date_to: Annotated[date | datetime | None, Query(description="Feedback written on or before (ISO date).")] = None,
    kind: Annotated[list[str], Query(description="review, survey or social (repeat for several).")] = [],  # noqa: B006
    source: Annotated[list[str], Query()] = [],  # noqa: B006
    channel: Annotated[list[str], Query()] = [],  # noqa: B006
    segment: Annotated[list[str], Query()] = [],  # noqa: B006
    language: Annotated[list[str], Query()] = [],  # noqa: B006
    rating_min: Annotated[float | None, Query(description="Lowest rating, on a 5-point scale.")] = None,
    rating_max: Annotated[float | None, Query(description="Highest rating, on a 5-point scale.")] = None,
    metadata: Annotated[list[str], Query(description="key=value on the item's metadata (repeat for several).")] = [],  # noqa: B006
    stage: Annotated[list[str], Query(description="Feedback with a mention at this stage.")] = [],  # noqa: B006
    touchpoint: Annotated[list[str], Query()] = [],  # noqa: B006
    polarity: Annotated[list[str], Query(description="irritant, delight or neutral.")] = [],  # noqa: B006
    emotion: Annotated[list[str], Query()] = [],  # noqa: B006
    q: Annotated[str | None, Query(description="Text search (case-insensitive substring).", max_length=200)] = None,
) -> FeedbackFilters:
    """Read the shared feedback filters from the query string."""
    if date_from and date_to and str(date_from) > str(date_to):
        raise AppError(422, "invalid_filter", f"date_from {date_from} is after date_to {date_to}")
    if rating_min is not None and rating_max is not None and rating_min > rating_max:
        raise AppError(422, "invalid_filter", f"rating_min {rating_min} is above rating_max {rating_max}")
    return FeedbackFilters(
        date_from=date_from,
        date_to=date_to,
        kind=kind,
        source=source,
        channel=channel,
        segment=segment,
        language=language,
        rating_min=rating_min,
        rating_max=rating_max,
        metadata=_metadata_pairs(metadata),
        stage=stage,
        touchpoint=touchpoint,
        polarity=polarity,
        emotion=emotion,
        q=q,
    )


FiltersDep = Annotated[FeedbackFilters, Depends(feedback_filters)]
