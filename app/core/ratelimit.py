"""Rate limits: failed authentications per client address, heavy endpoints per workspace.

Counted by the `limits` library with its moving window (no burst at a window's edge), in memory (one process)
or in Redis (`PARCOURS_RATE_LIMIT_STORAGE=redis://host:6379`, shared by every process). A client address
that failed authentication too often gets 429 on every request that carries a key, right or wrong, until its
window has room again: otherwise a 401 / 200 difference would still tell a guesser when it found a key.
A limit that is over answers 429 with `Retry-After` and the error envelope, code `rate_limited`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.config import Settings
from app.core.errors import ErrorBody, send_error
from app.core.metrics import RATE_LIMITED

logger = logging.getLogger(__name__)


class Limit(StrEnum):
    """What a limit counts."""

    auth_failures = "auth_failures"  # per client address
    feedback = "feedback"  # the others per workspace
    analyze = "analyze"
    uploads = "uploads"


HEAVY = {
    ("POST", "/v1/feedback"): Limit.feedback,
    ("POST", "/v1/analyze"): Limit.analyze,
    ("POST", "/v1/uploads"): Limit.uploads,
}

RATE_LIMITED_RESPONSE: dict[str, Any] = {
    "model": ErrorBody,
    "description": "Too many requests: `Retry-After` (seconds) says when to try again.",
    "content": {
        "application/json": {
            "example": {
                "detail": "Too many POST /v1/feedback calls for this workspace (120 per 1 minute); retry in 12 s",
                "code": "rate_limited",
            }
        }
    },
}


CLEAR_SECONDS = 1.0  # how long an address found clear of failures is not asked about again


def client_address(scope: Scope) -> str:
    """The client's address as the server saw it (behind a proxy: run uvicorn with --forwarded-allow-ips)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _async_uri(uri: str) -> str:
    return uri if uri.startswith("async+") else f"async+{uri}"


class RateLimiter:
    """The configured limits over one storage (in memory or Redis)."""

    def __init__(self, settings: Settings) -> None:
        uri = _async_uri(settings.rate_limit_storage)
        options: dict[str, Any] = {"wrap_exceptions": True}
        if uri.startswith(("async+redis", "async+rediss", "async+valkey")):
            options |= {"implementation": "redispy", "key_prefix": settings.rate_limit_prefix}
        self.storage = storage_from_string(uri, **options)
        self._clear: dict[str, float] = {}  # address -> time.monotonic() it was last found clear
        self.strategy = MovingWindowRateLimiter(self.storage)
        self.items: dict[Limit, list[RateLimitItem]] = {
            Limit.auth_failures: parse_many(settings.rate_limit_auth_failures),
            Limit.feedback: parse_many(settings.rate_limit_feedback),
            Limit.analyze: parse_many(settings.rate_limit_analyze),
            Limit.uploads: parse_many(settings.rate_limit_uploads),
        }

    def describe(self, limit: Limit) -> str:
        """The limit as people read it: '20 per 1 minute'."""
        return ", ".join(str(item) for item in self.items[limit])

    async def _wait(self, item: RateLimitItem, limit: Limit, key: str) -> int:
        stats = await self.strategy.get_window_stats(item, limit.value, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def retry_after(self, limit: Limit, key: str) -> int | None:
        """Seconds until `key` may be counted again under `limit`; None while it has room (nothing counted)."""
        try:
            for item in self.items[limit]:
                if not await self.strategy.test(item, limit.value, key):
                    return await self._wait(item, limit, key)
        except StorageError:  # a rate limit never takes the service down with its storage
            logger.warning("rate-limit storage unreachable; %s not checked", limit.value, exc_info=True)
        return None

    async def hit(self, limit: Limit, key: str) -> int | None:
        """Count one call of `key`; return the seconds to wait when that was over the limit (else None)."""
        try:
            for item in self.items[limit]:
                if not await self.strategy.hit(item, limit.value, key):
                    return await self._wait(item, limit, key)
        except StorageError:
            logger.warning("rate-limit storage unreachable; %s not counted", limit.value, exc_info=True)
        return None

    async def failed_authentication(self, scope: Scope) -> None:
        """Count a failed authentication against the request's client address."""
        address = client_address(scope)
        self._clear.pop(address, None)
        await self.hit(Limit.auth_failures, address)

    async def address_blocked(self, address: str) -> int | None:
        """Seconds until `address` may authenticate again; None when it may now.

        An address found clear is not asked about again for `CLEAR_SECONDS` (unless it fails here meanwhile):
        with Redis, a keyed request then costs no round trip, and failures made through other processes
        block it at most that much later.
        """
        now = time.monotonic()
        if now - self._clear.get(address, -math.inf) < CLEAR_SECONDS:
            return None
        wait = await self.retry_after(Limit.auth_failures, address)
        if wait is None:
            if len(self._clear) > 100_000:
                self._clear.clear()
            self._clear[address] = now
        return wait


# The workspace id of the API key a request carries (None without a key or with one that is not valid);
# given by the application, which knows the keys.
WorkspaceOf = Callable[[Scope], Awaitable[int | None]]


class RateLimits:
    """ASGI middleware: answer 429 before the application for blocked addresses and over-limit workspaces.

    Heavy endpoints are checked here, before their body is read (an upload is not received only to be refused).
    """

    def __init__(self, app: ASGIApp, workspace_of: WorkspaceOf) -> None:
        self.app, self.workspace_of = app, workspace_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limiter: RateLimiter | None = getattr(scope["app"].state, "rate_limiter", None) if "app" in scope else None
        if scope["type"] != "http" or limiter is None:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if "authorization" in headers or "x-api-key" in headers:
            wait = await limiter.address_blocked(client_address(scope))
            if wait is not None:
                detail = (
                    f"Too many failed authentications from this address "
                    f"({limiter.describe(Limit.auth_failures)}); retry in {wait} s"
                )
                await _refuse(send, Limit.auth_failures, detail, wait)
                return
        heavy = HEAVY.get((scope["method"], scope["path"].rstrip("/")))
        if heavy is not None:
            workspace_id = await self.workspace_of(scope)
            wait = await limiter.hit(heavy, str(workspace_id)) if workspace_id is not None else None
            if wait is not None:
                detail = (
                    f"Too many {scope['method']} {scope['path']} calls for this workspace "
                    f"({limiter.describe(heavy)}); retry in {wait} s"
                )
                await _refuse(send, heavy, detail, wait)
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send, limit: Limit, detail: str, wait: int) -> None:
    RATE_LIMITED.labels(limit=limit.value).inc()
    await send_error(send, 429, "rate_limited", detail, [(b"retry-after", str(wait).encode())])
