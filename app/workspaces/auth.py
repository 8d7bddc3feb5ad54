"""Authentication: the caller's workspace from its API key, with a short-lived cache so that polls read nothing."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select, update
from starlette.datastructures import Headers
from starlette.types import Scope

from app.core.db import reader, session_scope
from app.core.errors import AppError
from app.core.security import hash_api_key
from app.models import ApiKey, Workspace, utcnow

logger = logging.getLogger(__name__)
_LAST_USED_RESOLUTION = timedelta(minutes=5)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer TOKEN` header, else None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def api_key_from(authorization: str | None, x_api_key: str | None) -> str | None:
    """The API key a request sends: `Authorization: Bearer KEY`, else `X-API-Key: KEY`."""
    return bearer_token(authorization) or (x_api_key.strip() if x_api_key else None)


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


def refresh_workspace(request: Request, workspace_id: int) -> None:
    """After a write that changes a workspace's figures at once (an erasure, a correction, a taxonomy edit): this
    process's cached workspace row is read again, so its next poll sees the new data version (a new ETag) now,
    not after `workspace_ttl_seconds`. Other processes see it within that time."""
    workspace = read_workspace(request.app.state.engine, workspace_id)
    if workspace is not None:
        request.app.state.key_cache.put_workspace(workspace)


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
    workspace_id = await key_workspace_id(engine, cache, key)
    workspace = None
    if workspace_id is not None:
        workspace = await current_workspace(engine, cache, workspace_id, reuse=request.method in ("GET", "HEAD"))
    if workspace is None:
        await request.app.state.rate_limiter.failed_authentication(request.scope)
        raise invalid
    return workspace


async def key_workspace_id(engine: Any, cache: KeyCache, key: str) -> int | None:
    """The workspace id of an API key (None if unknown or revoked): from the KeyCache, else read and cached."""
    key_hash = hash_api_key(key)
    entry = cache.key(key_hash)
    if entry is None:
        entry = await run_in_threadpool(_check_key, engine, key_hash)
        if entry is None:
            return None
        cache.put_key(key_hash, entry)
    return entry.workspace_id


async def request_workspace_id(scope: Scope) -> int | None:
    """The workspace id of the API key a request carries (None without one, or with one that is not valid)."""
    state = scope["app"].state
    headers = Headers(scope=scope)
    key = api_key_from(headers.get("authorization"), headers.get("x-api-key"))
    return await key_workspace_id(state.engine, state.key_cache, key) if key else None
