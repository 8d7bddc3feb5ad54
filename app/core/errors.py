"""One error envelope for every error: `{"detail": "...", "code": "snake_case", ...}` from one set of handlers."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send

from nlp.errors import ParcoursError

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    503: "unavailable",
}


class ErrorBody(BaseModel):
    """The body of every error response."""

    detail: str
    code: str
    errors: list[dict[str, Any]] | None = None


def _documented(description: str, code: str, detail: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    example: dict[str, Any] = {"detail": detail, "code": code}
    if errors:
        example["errors"] = errors
    return {"model": ErrorBody, "description": description, "content": {"application/json": {"example": example}}}


# Every route's error answers, in the OpenAPI document: one envelope for all of them.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _documented(
        "No API key, or one that is unknown or revoked.",
        "missing_api_key",
        "An API key is required: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'",
    ),
    404: _documented("Not found in the caller's workspace.", "not_found", "No feedback with id 42 in this workspace"),
    413: _documented(
        "The request is larger than a limit, which the message names (`body_too_large`: the body's bytes, "
        "counted as it is read; `limit` holds the limit).",
        "payload_too_large",
        "A batch holds at most 5000 items; this one has 7200",
    ),
    422: _documented(
        "Invalid input: `errors` names each field (or row and column) and what is wrong.",
        "invalid_request",
        "Invalid request: kind: 'tweet' is not one of review, survey, social",
        [{"field": "kind", "message": "allowed values: review, survey, social"}],
    ),
}


# A write that lost every race to other writers (`retry_transaction` in app.core.db), in the OpenAPI document of
# every operation that writes (`document_database_busy`).
DATABASE_BUSY_RESPONSE: dict[str, Any] = {
    "description": "The database was too busy: the write lost a race to other writers on every try. Nothing of "
    "the request was stored; send it again after `Retry-After` seconds.",
    "content": {
        "application/json": {
            "schema": {"$ref": "#/components/schemas/ErrorBody"},
            "example": {
                "detail": "The database was too busy to complete the batch; nothing was stored, send it again",
                "code": "database_busy",
            },
        }
    },
}
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
STORES_NOTHING = frozenset({("post", "/v1/analyze")})  # a POST that writes nothing (its body is too big for a GET)


def document_database_busy(schema: dict[str, Any]) -> None:
    """Document 503 `database_busy` on every /v1 operation that writes: each runs its transaction under
    `retry_transaction`, which answers it when the transaction lost every race (a route's own 503 is kept)."""
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if path.startswith("/v1/") and method in WRITE_METHODS and (method, path) not in STORES_NOTHING:
                operation.setdefault("responses", {}).setdefault("503", DATABASE_BUSY_RESPONSE)


class AppError(Exception):
    """An error a client should see: HTTP status, a stable code and a message naming what is wrong."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.errors, self.extra = status, code, detail, errors, extra
        self.headers = headers


class NotFound(AppError):
    """A resource that does not exist in the caller's workspace."""

    def __init__(self, what: str, identifier: object) -> None:
        super().__init__(404, "not_found", f"No {what} with id {identifier} in this workspace")


def error_body(status: int, code: str, detail: str, errors: Any = None, **extra: Any) -> dict[str, Any]:
    """The envelope of an error answer (`status` is the HTTP status it goes with)."""
    body: dict[str, Any] = {"detail": detail, "code": code, **extra}
    if errors is not None:
        body["errors"] = errors
    return body


async def send_error(
    send: Send, status: int, code: str, detail: str, headers: Iterable[tuple[bytes, bytes]] = (), **extra: Any
) -> None:
    """Answer with the error envelope straight from an ASGI middleware (before, or instead of, the application)."""
    body = json.dumps(error_body(status, code, detail, **extra)).encode()
    start = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})


def invalid_request(items: list[dict[str, Any]]) -> AppError:
    """422 `invalid_request` with `errors` (`{"field", "message"}` items), the first five of them in `detail`."""
    detail = "; ".join(f"{i['field']}: {i['message']}" for i in items[:5])
    return AppError(422, "invalid_request", f"Invalid request: {detail}", items)


def _location(loc: tuple[Any, ...]) -> str:
    # a NUL in a name (a metadata key) is shown escaped: it is the reason of the error, not part of the answer
    parts = [str(p).replace("\x00", "\\0") for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_errors(errors: Any) -> list[dict[str, Any]]:
    """Turn pydantic errors into `{"field": "a.b", "message": "..."}` items.

    A body that is not JSON at all is reported against `body`, with the character where parsing stopped
    (pydantic puts that position where a field name would be).
    """
    items = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if error.get("type") == "json_invalid":
            position = next((p for p in loc if isinstance(p, int)), None)
            where = f" at character {position}" if position is not None else ""
            reason = (error.get("ctx") or {}).get("error", error.get("msg", "invalid"))
            items.append({"field": "body", "message": f"the body is not valid JSON{where}: {reason}"})
        else:
            items.append({"field": _location(loc), "message": error.get("msg", "invalid")})
    return items


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the same envelope."""

    @app.exception_handler(AppError)
    async def _app_error(_request: Request, error: AppError) -> JSONResponse:
        body = error_body(error.status, error.code, error.detail, error.errors, **error.extra)
        return JSONResponse(body, error.status, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        invalid = invalid_request(validation_errors(error.errors()))
        return JSONResponse(error_body(invalid.status, invalid.code, invalid.detail, invalid.errors), invalid.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = _CODES.get(error.status_code, "error")
        return JSONResponse(
            error_body(error.status_code, code, str(error.detail)), error.status_code, headers=error.headers
        )

    @app.exception_handler(ParcoursError)
    async def _library(_request: Request, error: ParcoursError) -> JSONResponse:
        return JSONResponse(error_body(422, "invalid_input", str(error)), 422)
