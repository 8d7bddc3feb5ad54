"""Dashboard polls answered before routing, when the caches already know the answer.

A poll of an analytics endpoint whose key and workspace are in the KeyCache gets the answer its route
would give from its caches, computed by the same functions (`etag_for`, `matches`, the ResponseCache):
304 when If-None-Match names the current ETag, the cached body when there is one. Everything else
(a key not checked lately, a new request, `If-None-Match: *`) goes through FastAPI as usual. This
spares each poll FastAPI's parameter validation and dependency resolution, which is most of its cost.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.cache import CACHE_CONTROL, VARY, ResponseCache, etag_for, matches
from app.api.deps import KeyCache, api_key_from, read_workspace
from app.core.security import hash_api_key

logger = logging.getLogger(__name__)

# Analytics answers whose ETag depends on nothing but the workspace, the model and the request.
POLLED_PATHS = frozenset(
    {"/v1/journey/curve", "/v1/journey/matrix", "/v1/irritants", "/v1/delights", "/v1/kpis", "/v1/alerts"}
)


_REFRESHES: set[asyncio.Task[None]] = set()  # running refreshes (the event loop keeps only weak references)


async def _refresh(state: Any, keys: KeyCache, workspace_id: int) -> None:
    """Read a workspace row again before its cached copy expires."""
    try:
        workspace = await run_in_threadpool(read_workspace, state.engine, workspace_id)
        if workspace is not None:
            keys.put_workspace(workspace)
    except Exception:  # the next poll past the row's time reads it on its own path, and reports errors there
        logger.exception("refreshing workspace %s failed", workspace_id)
    finally:
        keys.refreshing.discard(workspace_id)


class ConditionalPolls:
    """ASGI middleware: serve cache-known analytics polls without entering the application."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] not in POLLED_PATHS:
            await self.app(scope, receive, send)
            return
        answer = await self._known_answer(scope)
        if answer is None:
            await self.app(scope, receive, send)
            return
        status, headers, body = answer
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _known_answer(scope: Scope) -> tuple[int, dict[str, str], bytes] | None:
        state = scope["app"].state if "app" in scope else None
        if state is None or not hasattr(state, "key_cache"):
            return None
        headers = Headers(scope=scope)
        key = api_key_from(headers.get("authorization"), headers.get("x-api-key"))
        if not key:
            return None
        keys: KeyCache = state.key_cache
        entry = keys.key(hash_api_key(key))
        if entry is None:
            return None
        workspace = keys.workspace(entry.workspace_id)
        if workspace is None:  # the row's time is up: read it again (one primary-key read), as the route would
            workspace = await run_in_threadpool(read_workspace, state.engine, entry.workspace_id)
            if workspace is None:
                return None
            keys.put_workspace(workspace)
        elif keys.due_for_refresh(entry.workspace_id):
            task = asyncio.get_running_loop().create_task(_refresh(state, keys, entry.workspace_id))
            _REFRESHES.add(task)
            task.add_done_callback(_REFRESHES.discard)
        query = QueryParams(scope["query_string"]).multi_items()
        etag = etag_for(workspace, state.model_tag, scope["path"], query)
        answer_headers = {"etag": etag, "cache-control": CACHE_CONTROL, "vary": VARY}
        given = headers.get("if-none-match")
        if given and given.strip() != "*" and matches(given, etag):
            return 304, answer_headers, b""
        cache: ResponseCache = state.response_cache
        body = cache.get(etag)
        if body is None:
            return None
        answer_headers |= {"content-type": "application/json", "content-length": str(len(body))}
        return 200, answer_headers, body
