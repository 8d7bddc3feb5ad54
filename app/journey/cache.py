"""Cheap polling: an ETag per (workspace data version, model, request) and an in-process cache of answers.

Every write that changes what analytics would answer bumps the workspace's `data_version`, so a poll
that has seen the current version gets 304 without any computation, and a poll with a new filter is
computed once per version and then served from memory.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool

from app.models import Workspace

# Paths whose answer (and ETag) depends on nothing but the workspace, the model and the request: the routes
# register themselves here, and polls of them that the caches can answer are served before routing
# (app.journey.polling).
POLLED_PATHS: set[str] = set()

CACHE_CONTROL = "private, no-cache"  # store, but revalidate (If-None-Match) on every poll
VARY = "Authorization, X-API-Key"


class ResponseCache:
    """A small thread-safe LRU of serialised answers."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: str, body: bytes) -> None:
        with self._lock:
            self._items[key] = body
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def _serialised(compute: Callable[[], dict[str, Any]]) -> bytes:
    return json.dumps(compute(), ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def etag_for(workspace: Workspace, model_tag: str, path: str, query: list[tuple[str, str]], extra: str = "") -> str:
    """The ETag of an analytics answer: it changes with the workspace's data, the model and the request."""
    ordered = "&".join(sorted(f"{k}={v}" for k, v in query))
    basis = f"{workspace.id}|{workspace.data_version}|{model_tag}|{extra}|{path}?{ordered}"
    return '"' + hashlib.sha256(basis.encode()).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names `etag` (or is `*`)."""
    if not if_none_match:
        return False
    return if_none_match.strip() == "*" or etag in [t.strip().removeprefix("W/") for t in if_none_match.split(",")]


def versions(workspace: Workspace, model_tag: str) -> str:
    """What the figures come from (the X-Parcours-Versions header): the workspace's taxonomy version, the shipped
    model, and the version of the workspace's model adapted from its corrections (0: none)."""
    return f"taxonomy={workspace.taxonomy_version}; model={model_tag}; adapted={workspace.model_version}"


def known_answer(
    cache: ResponseCache, etag: str, if_none_match: str | None, figures_from: str = ""
) -> tuple[int, dict[str, str], bytes | None]:
    """What the caches answer for `etag`: 304, the cached body (200), or 200 with no body yet (None)."""
    headers = {"etag": etag, "cache-control": CACHE_CONTROL, "vary": VARY, "x-parcours-versions": figures_from}
    if matches(if_none_match, etag):
        return 304, headers, b""
    return 200, headers, cache.get(etag)


async def cached_answer(
    request: Request, workspace: Workspace, compute: Callable[[], dict[str, Any]], extra: str = ""
) -> Response:
    """Answer 304 when the client has the current version, else the cached or freshly computed JSON.

    Only a computation goes to the thread pool: a 304 or a cached answer is served on the event loop.
    """
    etag = etag_for(workspace, request.app.state.model_tag, request.url.path, request.query_params.multi_items(), extra)
    cache: ResponseCache = request.app.state.response_cache
    figures_from = versions(workspace, request.app.state.model_tag)
    status, headers, body = known_answer(cache, etag, request.headers.get("if-none-match"), figures_from)
    if status == 304:
        return Response(status_code=304, headers=headers)
    if body is None:
        body = await run_in_threadpool(_serialised, compute)
        cache.put(etag, body)
    return Response(content=body, media_type="application/json", headers=headers)
