"""Request dependencies: database session, pipeline, the caller's workspace, and look-ups that 404."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select, update
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import reader, session_scope
from app.core.errors import AppError, NotFound
from app.core.security import hash_api_key, same_secret
from app.crud import FeedbackFilters, utc_day
from app.models import ApiKey, Feedback, Upload, Workspace, utcnow
from app.worker import Workers
from nlp.pipeline import Pipeline

logger = logging.getLogger(__name__)
_LAST_USED_RESOLUTION = timedelta(minutes=5)


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


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def api_key_from(authorization: str | None, x_api_key: str | None) -> str | None:
    """The API key a request sends: `Authorization: Bearer KEY`, else `X-API-Key: KEY`."""
    return _bearer(authorization) or (x_api_key.strip() if x_api_key else None)


@dataclass(frozen=True)
class _KeyEntry:
    api_key_id: int
    workspace_id: int
    checked: float  # time.monotonic() of the database check


class KeyCache:
    """What authentication read from the database, remembered briefly so that a dashboard poll reads nothing.

    API key hash -> workspace id for `key_ttl` seconds (a revoked key stops working within that time in every
    process); workspace row (with its data version, which decides ETags) for `workspace_ttl` seconds, for
    GET requests only: a poll may see a change up to that late. Writes always read the row afresh.
    """

    def __init__(self, key_ttl: float = 30.0, workspace_ttl: float = 1.0) -> None:
        self.key_ttl, self.workspace_ttl = key_ttl, workspace_ttl
        self._keys: dict[str, _KeyEntry] = {}
        self._workspaces: dict[int, tuple[Workspace, float]] = {}
        self.refreshing: set[int] = set()
        self._lock = threading.Lock()

    def key(self, key_hash: str) -> _KeyEntry | None:
        entry = self._keys.get(key_hash)
        return entry if entry is not None and time.monotonic() - entry.checked < self.key_ttl else None

    def put_key(self, key_hash: str, entry: _KeyEntry) -> None:
        with self._lock:
            if len(self._keys) > 10_000:
                self._keys.clear()
            self._keys[key_hash] = entry

    def workspace(self, workspace_id: int) -> Workspace | None:
        found = self._workspaces.get(workspace_id)
        return found[0] if found is not None and time.monotonic() - found[1] < self.workspace_ttl else None

    def due_for_refresh(self, workspace_id: int) -> bool:
        """True once a cached workspace row has lived half its time and nobody is reading it again yet
        (the caller then does, off the request): busy pollers never wait for the row themselves."""
        found = self._workspaces.get(workspace_id)
        if found is None or time.monotonic() - found[1] < self.workspace_ttl / 2:
            return False
        with self._lock:
            if workspace_id in self.refreshing:
                return False
            self.refreshing.add(workspace_id)
            return True

    def put_workspace(self, workspace: Workspace) -> None:
        with self._lock:
            if len(self._workspaces) > 10_000:
                self._workspaces.clear()
            self._workspaces[workspace.id] = (workspace, time.monotonic())  # type: ignore[index]


def _check_key(engine: Any, key_hash: str) -> _KeyEntry | None:
    table = ApiKey.__table__.c
    with reader(engine).connect() as connection:
        row = connection.execute(
            select(table.id, table.workspace_id, table.revoked_at, table.last_used_at).where(table.key_hash == key_hash)
        ).first()
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > _LAST_USED_RESOLUTION:
        with session_scope(engine) as writer:
            writer.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
    return _KeyEntry(row.id, row.workspace_id, time.monotonic())


def read_workspace(engine: Any, workspace_id: int) -> Workspace | None:
    table = Workspace.__table__
    with reader(engine).connect() as connection:
        found = connection.execute(select(table).where(table.c.id == workspace_id)).first()
    return Workspace.model_validate(dict(found._mapping)) if found is not None else None


_REFRESHES: set[asyncio.Task[None]] = set()  # running refreshes (the event loop keeps only weak references)


async def _refresh(engine: Any, cache: KeyCache, workspace_id: int) -> None:
    """Read a workspace row again before its cached copy expires."""
    try:
        workspace = await run_in_threadpool(read_workspace, engine, workspace_id)
        if workspace is not None:
            cache.put_workspace(workspace)
    except Exception:  # the next request past the row's time reads it on its own path, and reports errors there
        logger.exception("refreshing workspace %s failed", workspace_id)
    finally:
        cache.refreshing.discard(workspace_id)


async def current_workspace(engine: Any, cache: KeyCache, workspace_id: int, reuse: bool) -> Workspace | None:
    """The workspace row: the cached copy when `reuse` allows it and it is fresh, else read (and cached).

    A reused copy past half its time is read again in the background, so busy pollers never wait for it.
    """
    workspace = cache.workspace(workspace_id) if reuse else None
    if workspace is None:
        workspace = await run_in_threadpool(read_workspace, engine, workspace_id)
        if workspace is not None:
            cache.put_workspace(workspace)
    elif cache.due_for_refresh(workspace_id):
        task = asyncio.get_running_loop().create_task(_refresh(engine, cache, workspace_id))
        _REFRESHES.add(task)
        task.add_done_callback(_REFRESHES.discard)
    return workspace


# The two ways to send a workspace key, declared as OpenAPI security schemes (the docs' Authorize button).
BEARER = HTTPBearer(auto_error=False, scheme_name="bearer", description="A workspace API key: `Bearer KEY`.")
API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key", auto_error=False, scheme_name="apiKey", description="A workspace API key (alternative)."
)


async def get_workspace(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None,
    x_api_key: Annotated[str | None, Depends(API_KEY_HEADER)] = None,
) -> Workspace:
    """Return the workspace of the API key in `Authorization: Bearer KEY` or `X-API-Key: KEY`.

    Database look-ups (in the thread pool, in their own short transactions, so that the request's session
    has taken no lock yet) happen only when the KeyCache has not got the answer.
    """
    key = (bearer.credentials.strip() if bearer is not None else None) or (x_api_key.strip() if x_api_key else None)
    if not key:
        raise AppError(
            401,
            "missing_api_key",
            "An API key is required: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    invalid = AppError(
        401, "invalid_api_key", "The API key is not valid (unknown or revoked)", headers={"WWW-Authenticate": "Bearer"}
    )
    engine = request.app.state.engine
    cache: KeyCache = request.app.state.key_cache
    key_hash = hash_api_key(key)
    entry = cache.key(key_hash)
    if entry is None:
        entry = await run_in_threadpool(_check_key, engine, key_hash)
        if entry is None:
            raise invalid
        cache.put_key(key_hash, entry)
    workspace = await current_workspace(engine, cache, entry.workspace_id, reuse=request.method in ("GET", "HEAD"))
    if workspace is None:
        raise invalid
    return workspace


WorkspaceDep = Annotated[Workspace, Depends(get_workspace)]


async def require_admin(
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


KINDS = ("review", "survey", "social")
POLARITIES = ("irritant", "delight", "neutral")


def check_allowed(field: str, values: list[str], allowed: Any) -> None:
    """422 naming the field, the wrong values and the allowed ones."""
    allowed = list(allowed)
    wrong = [v for v in values if v not in allowed]
    if wrong:
        raise AppError(
            422,
            "invalid_filter",
            f"{field}: {', '.join(map(repr, wrong))} is not one of {', '.join(allowed)}",
            errors=[{"field": field, "message": f"allowed values: {', '.join(allowed)}"}],
        )


async def feedback_filters(
    request: Request,
    date_from: Annotated[
        date | datetime | None,
        Query(
            description="First day (inclusive) of the feedback's date (written, else received), as a UTC calendar "
            "day: 2026-05-01; a date-time is converted to UTC and only its day is kept."
        ),
    ] = None,
    date_to: Annotated[
        date | datetime | None,
        Query(description="Last day (inclusive), a UTC calendar day like date_from: the whole day is included."),
    ] = None,
    kind: Annotated[list[str], Query(description="review, survey or social (repeat for several).")] = [],  # noqa: B006
    source: Annotated[list[str], Query(description="The feedback's source, as sent (repeat for several).")] = [],  # noqa: B006
    channel: Annotated[list[str], Query(description="The feedback's channel, as sent (repeat for several).")] = [],  # noqa: B006
    segment: Annotated[list[str], Query(description="Customer segment, as sent (repeat for several).")] = [],  # noqa: B006
    language: Annotated[list[str], Query(description="Detected or given language code, e.g. fr, en.")] = [],  # noqa: B006
    rating_min: Annotated[float | None, Query(description="Lowest rating, on a 5-point scale.")] = None,
    rating_max: Annotated[float | None, Query(description="Highest rating, on a 5-point scale.")] = None,
    metadata: Annotated[list[str], Query(description="key=value on the item's metadata (repeat for several).")] = [],  # noqa: B006
    stage: Annotated[list[str], Query(description="Feedback with a mention at this stage.")] = [],  # noqa: B006
    touchpoint: Annotated[list[str], Query(description="Feedback with a mention at this touchpoint (id).")] = [],  # noqa: B006
    polarity: Annotated[list[str], Query(description="irritant, delight or neutral.")] = [],  # noqa: B006
    emotion: Annotated[list[str], Query(description="Feedback with a mention of this emotion (id).")] = [],  # noqa: B006
    q: Annotated[str | None, Query(description="Text search (case-insensitive substring).", max_length=200)] = None,
) -> FeedbackFilters:
    """Read the shared feedback filters from the query string; unknown labels answer 422 with the allowed ones."""
    taxonomy = request.app.state.pipeline.taxonomy
    check_allowed("kind", kind, KINDS)
    check_allowed("polarity", polarity, POLARITIES)
    check_allowed("stage", stage, [label.id for label in taxonomy.stages])
    check_allowed("touchpoint", touchpoint, [label.id for label in taxonomy.touchpoints])
    check_allowed("emotion", emotion, [label.id for label in taxonomy.emotions])
    first, last = utc_day(date_from), utc_day(date_to)
    if first is not None and last is not None and first > last:
        raise AppError(422, "invalid_filter", f"date_from {first} is after date_to {last} (UTC days)")
    if rating_min is not None and rating_max is not None and rating_min > rating_max:
        raise AppError(422, "invalid_filter", f"rating_min {rating_min} is above rating_max {rating_max}")
    return FeedbackFilters(
        date_from=first,
        date_to=last,
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
