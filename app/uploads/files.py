"""Uploaded files on disk: kept while their rows are being read, then deleted (or after `keep_upload_files_seconds`).

A file is written by POST /v1/uploads (deleted there if the upload is refused), read by the upload worker, and
deleted once its last row is stored or the upload fails. `sweep()` removes what a crash left behind: files of
uploads that are no longer being read, once older than the retention, and files of no upload at all.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session

from app.core.config import Settings
from app.models import Upload, UploadStatus

logger = logging.getLogger(__name__)

# A file of no upload row may belong to a request that is still checking it before it stores the row.
ORPHAN_GRACE_SECONDS = 600.0


def upload_folder(settings: Settings) -> Path:
    """Return the folder uploaded files are kept in."""
    return settings.data_dir / "uploads"


def discard_read_file(settings: Settings, path: Path) -> None:
    """Delete a file whose upload is read to its end (or failed), unless the retention keeps it for the sweep."""
    if settings.keep_upload_files_seconds <= 0:
        path.unlink(missing_ok=True)


def sweep(*, session: Session, settings: Settings) -> int:
    """Delete the uploaded files nothing will read again and that are past the retention; return how many."""
    folder = upload_folder(settings)
    if not folder.is_dir():
        return 0
    table = Upload.__table__.c
    rows = session.execute(select(table.stored_path, table.status, table.reading_done)).all()
    being_read = {
        Path(path).name
        for path, status, reading_done in rows
        if status in (UploadStatus.queued.value, UploadStatus.running.value) and not reading_done
    }
    known = {Path(path).name for path, _, _ in rows}
    keep = settings.keep_upload_files_seconds
    now, removed = time.time(), 0
    for path in folder.iterdir():
        if not path.is_file() or path.name in being_read:
            continue
        try:
            age = now - path.stat().st_mtime
        except FileNotFoundError:
            continue  # deleted meanwhile by the worker or a refused request
        if age >= (keep if path.name in known else max(keep, ORPHAN_GRACE_SECONDS)):
            path.unlink(missing_ok=True)
            removed += 1
    if removed:
        logger.info("deleted %d uploaded files no longer needed from %s", removed, folder)
    return removed
