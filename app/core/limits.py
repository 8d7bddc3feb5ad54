"""Request bodies bounded while they are read: a pure ASGI middleware answering 413 as soon as a limit is crossed.

A declared `Content-Length` over the limit is refused before anything is read; a body sent without one (chunked)
is counted message by message. Once the limit is crossed the client gets the 413 at once, and the application,
whatever it was doing with the body, is told the client went away: it stops reading, and whatever it would have
answered is dropped. Nothing larger than the limit plus one received message is ever held.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import send_error

# What a multipart form may hold beyond its file: the other fields, the part headers and boundaries.
FORM_ALLOWANCE = 1024**2


class BodyLimit:
    """ASGI middleware: request bodies of at most `default` bytes, except on the paths of `files` (routes taking
    a file in a multipart form): there, the file's limit plus FORM_ALLOWANCE."""

    def __init__(self, app: ASGIApp, *, default: int, files: Mapping[str, int] | None = None) -> None:
        self.app, self.default = app, default
        self.routes = {path: limit + FORM_ALLOWANCE for path, limit in (files or {}).items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.routes.get(scope["path"].rstrip("/") or "/", self.default)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        exchange = _Exchange(receive, send, limit)
        await self.app(scope, exchange.receive, exchange.send)


class _Exchange:
    """One request's `receive` and `send` as the application sees them: body bytes counted; past the limit the
    client gets the 413, the application a disconnect, and whatever it sends afterwards goes nowhere."""

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self._receive, self._send, self.limit = receive, send, limit
        self.received, self.started, self.refused = 0, False, False

    async def receive(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] != "http.request":
            return message
        self.received += len(message.get("body", b""))
        if self.received <= self.limit:
            return message
        self.refused = True
        if not self.started:  # an application already answering keeps its answer (it did not need the body)
            await _too_large(self._send, self.limit)
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if self.refused and not self.started:
            return
        self.started = True
        await self._send(message)


async def _too_large(send: Send, limit: int) -> None:
    detail = f"The request body is over the limit of {limit} bytes"
    await send_error(send, 413, "body_too_large", detail, [(b"connection", b"close")], limit=limit)
