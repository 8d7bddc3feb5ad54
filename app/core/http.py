"""Two ASGI middlewares that see every response: security headers, and request telemetry (request id,
latency metric by route template and status, access log line)."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import time
import uuid
from collections.abc import Iterable
from typing import Any

from starlette.datastructures import Headers
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.logs import ACCESS, REQUEST_ID
from app.core.metrics import HTTP_REQUEST_SECONDS

# The journey map page and the API: scripts and styles from the service itself only (no inline script; style
# attributes are allowed: the page sets colours with them), images also as data:/blob: (the PNG export).
PAGE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "style-src-attr": "'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# /docs and /redoc (served offline by fastapi-offline): their inline bootstrap scripts are allowed by hash
# (computed from the page itself), ReDoc injects its styles and runs its search in a blob: worker.
DOCS_POLICY = PAGE_POLICY | {"style-src": "'self' 'unsafe-inline'", "worker-src": "'self' blob:"}
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def policy(directives: dict[str, str], inline_scripts: Iterable[bytes] = ()) -> str:
    """A Content-Security-Policy value; each inline script is allowed by its sha256 hash."""
    hashes = [f"'sha256-{base64.b64encode(hashlib.sha256(s).digest()).decode()}'" for s in inline_scripts]
    if hashes:
        directives = directives | {"script-src": " ".join([directives["script-src"], *hashes])}
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _with_headers(message: Message, added: dict[str, str]) -> Message:
    headers = list(message.get("headers", []))
    present = {name.lower() for name, _ in headers}
    headers += [(k.encode(), v.encode()) for k, v in added.items() if k.encode() not in present]
    return {**message, "headers": headers}


class SecurityHeaders:
    """ASGI middleware: CSP, frame, content-type and referrer headers on every HTTP response.

    HTML pages are held until complete (they are small) so that their inline scripts' hashes go in the CSP.
    """

    def __init__(self, app: ASGIApp, docs_paths: Iterable[str] = ()) -> None:
        self.app, self.docs_paths = app, frozenset(docs_paths)
        self.page_policy = policy(PAGE_POLICY)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        directives = DOCS_POLICY if scope["path"] in self.docs_paths else PAGE_POLICY
        start: Message | None = None
        body: list[bytes] = []

        async def secure(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                html = Headers(raw=message.get("headers", [])).get("content-type", "").startswith("text/html")
                if html:
                    start = message  # sent with the whole page
                    return
                await send(_with_headers(message, {**SECURITY_HEADERS, "content-security-policy": self.page_policy}))
            elif start is not None and message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    page = b"".join(body)
                    csp = policy(directives, (m.group(1) for m in _INLINE_SCRIPT.finditer(page)))
                    await send(_with_headers(start, {**SECURITY_HEADERS, "content-security-policy": csp}))
                    await send({"type": "http.response.body", "body": page})
            else:
                await send(message)

        await self.app(scope, receive, secure)


_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestTelemetry:
    """ASGI middleware: a request id (the client's `X-Request-ID` when sane, else a new one, sent back), the
    request's latency by method, route template and status, and one `parcours.access` log record."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._templates: dict[tuple[str, str], str] = {}  # requests answered before routing (polls, 404, 429)
        self._fixed_paths: frozenset[str] | None = None

    def route_template(self, scope: Scope) -> str:
        """The path template of the route that answered (`/v1/feedback/{feedback_id}`); `unmatched` for none."""
        route: Any = scope.get("route")
        if route is not None and hasattr(route, "path"):
            return str(route.path)
        key = (scope["method"], scope["path"])
        found = self._templates.get(key)
        if found is None:
            found = self._unrouted(scope)
            if len(self._templates) > 1000:  # unmatched paths are unbounded
                self._templates.clear()
            self._templates[key] = found
        return found

    def _unrouted(self, scope: Scope) -> str:
        """The template of a request that no FastAPI route answered: a plain route or mount (`/openapi.json`,
        `/static`), a path without parameters answered before routing (a poll, a 429), else `unmatched`."""
        app: Any = scope.get("app")
        for route in getattr(app, "routes", []):
            path = getattr(route, "path", None)
            if path is not None and route.matches(scope)[0] == Match.FULL:
                return str(path)
        if self._fixed_paths is None and app is not None:
            self._fixed_paths = frozenset(p for p in app.openapi().get("paths", {}) if "{" not in p)
        return scope["path"] if scope["path"] in (self._fixed_paths or ()) else "unmatched"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500  # what the server answers if the application raised before starting a response

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = _with_headers(message, {"x-request-id": request_id})
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            duration = time.perf_counter() - started
            route = self.route_template(scope)
            HTTP_REQUEST_SECONDS.labels(scope["method"], route, str(status)).observe(duration)
            if ACCESS.isEnabledFor(logging.INFO):
                ACCESS.info(
                    "%s %s %d %.1f ms", scope["method"], route, status, duration * 1000,
                    extra={"method": scope["method"], "route": route, "path": scope["path"], "status": status,
                           "duration_ms": round(duration * 1000, 3)},
                )  # fmt: skip
            REQUEST_ID.reset(token)
