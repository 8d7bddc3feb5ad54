"""Dashboard polls answered before routing, when the caches already know the answer.

A poll of an analytics endpoint (`POLLED_PATHS`) whose API key is in the KeyCache gets the answer its
route would give from its caches, by the same functions (`current_workspace`, `etag_for`, `known_answer`):
304 when If-None-Match names the current ETag, the cached body when there is one. Everything else (a key
not checked lately, a new request, `If-None-Match: *`) goes through FastAPI as usual. This spares each
poll FastAPI's parameter validation and dependency resolution, which is most of its cost.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.security import hash_api_key
from app.journey.cache import POLLED_PATHS, ResponseCache, etag_for, known_answer, versions
from app.workspaces.auth import KeyCache, api_key_from, current_workspace


class ConditionalPolls:
    """ASGI middleware: serve cache-known analytics polls without entering the application."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] not in POLLED_PATHS:
            await self.app(scope, receive, send)
            return
        answer = await _known_answer(scope)
        if answer is None:
            await self.app(scope, receive, send)
            return
        status, headers, body = answer
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})


async def _known_answer(scope: Scope) -> tuple[int, dict[str, str], bytes] | None:
    state: Any = scope["app"].state if "app" in scope else None
    if state is None or not hasattr(state, "key_cache"):
        return None
    headers = Headers(scope=scope)
    key = api_key_from(headers.get("authorization"), headers.get("x-api-key"))
    given = headers.get("if-none-match")
    if not key or (given and given.strip() == "*"):
        return None
    keys: KeyCache = state.key_cache
    entry = keys.key(hash_api_key(key))
    if entry is None:
        return None
    workspace = await current_workspace(state.engine, keys, entry.workspace_id, reuse=True)
    if workspace is None:
        return None
    etag = etag_for(workspace, state.model_tag, scope["path"], QueryParams(scope["query_string"]).multi_items())
    cache: ResponseCache = state.response_cache
    status, answer_headers, body = known_answer(cache, etag, given, versions(workspace, state.model_tag))
    if body is None:
        return None
    if status == 200:
        answer_headers |= {"content-type": "application/json", "content-length": str(len(body))}
    return status, answer_headers, body
