"""Log lines as text or as JSON objects (`PARCOURS_LOG_FORMAT`), with the request id of the request being served.

JSON lines carry `time`, `level`, `logger`, `message`, `request_id` (during a request) and the fields a
call adds with `extra=` (the access log: `method`, `route`, `status`, `duration_ms`).
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

REQUEST_ID: ContextVar[str | None] = ContextVar("parcours_request_id", default=None)
ACCESS = logging.getLogger("parcours.access")


class _RequestId(logging.Filter):
    """Put the current request's id on every record (None outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class _Handler(logging.StreamHandler):
    """The handler this module installs (recognised when logging is configured again)."""


def json_formatter() -> logging.Formatter:
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message, request_id, extra fields."""
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
    )


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """Send the root logger's records to stderr in `log_format` ("text" or "json").

    Text leaves logging as the command line set it up (`parcours serve`: basicConfig), uvicorn's access lines
    included. JSON replaces the root's stream handlers and routes uvicorn's own loggers through it; uvicorn's
    access lines are left out, since `parcours.access` logs each request with its route, status, duration, id.
    """
    ACCESS.setLevel(logging.INFO if log_format == "json" else logging.WARNING)
    if log_format != "json":
        return
    root = logging.getLogger()
    handler = _Handler()
    handler.setFormatter(json_formatter())
    handler.addFilter(_RequestId())
    for old in [h for h in root.handlers if type(h) in (_Handler, logging.StreamHandler)]:
        root.removeHandler(old)  # ours from before, or basicConfig's (test runners' own handlers stay)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").handlers.clear()
    logging.getLogger("uvicorn.access").propagate = False
