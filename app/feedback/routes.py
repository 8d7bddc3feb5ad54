"""Feedback: batch ingestion, listing with filters, detail, erasure."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError

from app.api.deps import FeedbackDep, SessionDep, SettingsDep, WorkersDep, WorkspaceDep
from app.core.db import retry_transaction
from app.core.errors import AppError, validation_errors
from app.crud import feedback_detail, feedback_public, list_feedback, with_analysis
from app.feedback.erasure import erase
from app.feedback.privacy import pii_secret
from app.feedback.store import store_feedback
from app.jobs.queue import JobKind
from app.journey.scope import FiltersDep
from app.schemas import (
    BatchResult,
    FeedbackBatch,
    FeedbackCreate,
    FeedbackDetail,
    FeedbacksPublic,
    ItemError,
    ItemResult,
)
from app.workspaces.auth import refresh_workspace

router = APIRouter(prefix="/v1/feedback", tags=["feedback"])


@router.post("", status_code=202, response_model=BatchResult, summary="Store and analyse a batch of feedback")
def ingest_feedback(
    batch: FeedbackBatch, session: SessionDep, workspace: WorkspaceDep, settings: SettingsDep, workers: WorkersDep
) -> BatchResult:
    """Store every valid item (analysis follows in the background); invalid items are reported by index and field.

    An item sent again (same `external_id`, or without one the same text, source and date) is not stored twice:
    it is reported as `duplicate` with the id it already has.
    """
    if len(batch.items) > settings.max_batch_items:
        raise AppError(
            413,
            "batch_too_large",
            f"The batch has {len(batch.items)} items; the limit is {settings.max_batch_items} per request",
            limit=settings.max_batch_items,
        )
    valid: list[tuple[int, FeedbackCreate]] = []
    errors: list[ItemError] = []
    for index, raw in enumerate(batch.items):
        try:
            item = FeedbackCreate.model_validate(raw)
        except ValidationError as error:
            errors += [ItemError(index=index, **e) for e in validation_errors(error.errors())]
            continue
        if len(item.text) > settings.max_text_chars:
            errors.append(ItemError(index=index, field="text", message=f"longer than {settings.max_text_chars} chars"))
            continue
        valid.append((index, item))
    if not valid:
        raise AppError(
            422, "invalid_items", f"None of the {len(batch.items)} items is valid", [e.model_dump() for e in errors]
        )
    items = [item for _, item in valid]
    secret = pii_secret(settings)
    stored = retry_transaction(
        session,
        lambda: store_feedback(session=session, workspace=workspace, items=items, id_secret=secret),
        what="the batch",
    )
    if workers is not None:
        workers.wake(JobKind.analysis)
    results = [
        ItemResult(index=index, id=s.id, status="stored" if s.created else "duplicate")
        for (index, _), s in zip(valid, stored, strict=True)
    ]
    new = sum(s.created for s in stored)
    return BatchResult(
        stored=new, duplicates=len(stored) - new, failed=len(batch.items) - len(valid), items=results, errors=errors
    )


@router.get("", response_model=FeedbacksPublic, summary="List feedback, newest first")
def read_feedbacks(
    session: SessionDep,
    workspace: WorkspaceDep,
    filters: FiltersDep,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Items per page (1-500).")] = 50,
    include: Annotated[
        list[Literal["mentions"]], Query(description="mentions: add each item's mentions and evidence words.")
    ] = [],  # noqa: B006
) -> FeedbacksPublic:
    """Return a page of the workspace's feedback matching every filter given."""
    rows, next_cursor = list_feedback(
        session=session,
        workspace_id=workspace.id,
        filters=filters,
        cursor=cursor,
        limit=limit,
    )
    items = [feedback_public(f) for f in rows]
    if "mentions" in include:
        items = with_analysis(session=session, items=items)
    return FeedbacksPublic(data=items, next_cursor=next_cursor)


@router.get("/{feedback_id}", response_model=FeedbackDetail, summary="One piece of feedback with its analysis")
def read_feedback(feedback: FeedbackDep, session: SessionDep) -> FeedbackDetail:
    """Return the feedback, its segments (with evidence) and its mentions."""
    return feedback_detail(session=session, feedback=feedback)


@router.delete("/{feedback_id}", status_code=204, summary="Erase a piece of feedback (right to erasure)")
def delete_feedback(
    feedback: FeedbackDep, session: SessionDep, settings: SettingsDep, workers: WorkersDep, request: Request
) -> Response:
    """Delete the feedback and everything derived from it: segments, mentions, aggregates, the topics computed
    with it (computed again without it), its uploaded file if still kept; no answer cached before is served again."""
    requeued = retry_transaction(
        session, lambda: erase(session=session, settings=settings, feedback=feedback), what="the erasure"
    )
    # This process's polls see the new data version now (not after workspace_ttl_seconds): no cached answer
    # holding the erased text is served again.
    refresh_workspace(request, feedback.workspace_id)
    if workers is not None and requeued:
        workers.wake(JobKind.topics)
    return Response(status_code=204)
