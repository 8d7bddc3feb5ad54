"""The right to erasure: a piece of feedback taken out of every place that holds it or something made from it.

Rows (the feedback, its segments and mentions, its share of the rollup: `feedback.store.erase_feedback`),
topic results computed with it (`journey.topics.forget_feedback`: dropped and queued again), the uploaded
file it came from if one is still kept, and every cached answer (the workspace's data version is bumped, so
no ETag or cached body of before the erasure is served again).
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from app.core.config import Settings
from app.feedback.store import erase_feedback
from app.journey.topics import forget_feedback
from app.models import Feedback, Upload, UploadStatus


def erase(*, session: Session, settings: Settings, feedback: Feedback) -> int:
    """Erase a piece of feedback everywhere, in the caller's transaction; return how many topic slices are requeued."""
    feedback_id, workspace_id, upload_id = feedback.id, feedback.workspace_id, feedback.upload_id
    assert feedback_id is not None
    mention_ids = erase_feedback(session=session, feedback=feedback)
    requeued = forget_feedback(
        session=session, workspace_id=workspace_id, feedback_id=feedback_id, mention_ids=mention_ids
    )
    upload = session.get(Upload, upload_id) if upload_id is not None else None
    # A file still being read is deleted when its last row is stored; one kept after that goes now.
    if upload is not None and (upload.reading_done or upload.status == UploadStatus.failed.value):
        Path(upload.stored_path).unlink(missing_ok=True)
    return requeued
