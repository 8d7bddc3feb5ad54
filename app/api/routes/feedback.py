"""Feedback: batch ingestion, listing with filters, detail, erasure."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import ValidationError

from app.api.deps import FeedbackDep, SessionDep, SettingsDep, WorkersDep, WorkspaceDep
from app.core.errors import AppError, validation_errors
from app.crud import FeedbackFilters, delete_feedback, feedback_detail, feedback_public, list_feedback
from app.schemas import (
    BatchResult,
    FeedbackBatch,
    FeedbackCreate,
    FeedbackDetail,
    FeedbacksPublic,
    ItemError,
    ItemResult,
)
from app.services import store_feedback

router = APIRouter(prefix="/v1/feedback", tags=["feedback"])


def _metadata_pairs(values: list[str]) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, wanted = value.partition("=")
        if not sep or not key:
            raise AppError(422, "invalid_filter", f"metadata filter '{value}' must be key=value")
        pairs[key] = wanted
    return pairs


def feedback_filters(
    date_from: Annotated[date | datetime | None, Query(description="Feedback written on or after (ISO date).")] = None,
    date_to: Annotated[date | datetime | None, Query(description="Feedback written on or before (ISO date).")] = None,
    kind: Annotated[list[str], Query(description="review, survey or social (repeat for several).")] = [],  # noqa: B006
    source: Annotated[list[str], Query()] = [],  # noqa: B006
    channel: Annotated[list[str], Query()] = [],  # noqa: B006
    segment: Annotated[list[str], Query()] = [],  # noqa: B006
    language: Annotated[list[str], Query()] = [],  # noqa: B006
    rating_min: Annotated[float | None, Query()] = None,
    rating_max: Annotated[float | None, Query()] = None,
    metadata: Annotated[list[str], Query(description="key=value on the item's metadata (repeat for several).")] = [],  # noqa: B006
    stage: Annotated[list[str], Query(description="Feedback with a mention at this stage.")] = [],  # noqa: B006
    touchpoint: Annotated[list[str], Query()] = [],  # noqa: B006
    polarity: Annotated[list[str], Query(description="irritant, delight or neutral.")] = [],  # noqa: B006
    emotion: Annotated[list[str], Query()] = [],  # noqa: B006
    q: Annotated[str | None, Query(description="Text search (case-insensitive substring).", max_length=200)] = None,
) -> FeedbackFilters:
    """Read the shared feedback filters from the query string."""
    if date_from and date_to and str(date_from) > str(date_to):
        raise AppError(422, "invalid_filter", f"date_from {date_from} is after date_to {date_to}")
    if rating_min is not None and rating_max is not None and rating_min > rating_max:
        raise AppError(422, "invalid_filter", f"rating_min {rating_min} is above rating_max {rating_max}")
    return FeedbackFilters(
        date_from=date_from,
        date_to=date_to,
        kind=kind,
        source=source,
        channel=channel,
        segment=segment,
        language=language,
        rating_min=rating_min,
        rating_max=rating_max,
        metadata=_metadata_pairs(metadata),
        stage=stage,
        touchpoint=touchpoint,
        polarity=polarity,
        emotion=emotion,
        q=q,
    )


FiltersDep = Annotated[FeedbackFilters, Depends(feedback_filters)]


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
    stored = store_feedback(session=session, workspace=workspace, items=[item for _, item in valid])
    session.commit()
    if workers is not None:
        workers.analysis.loop.wake()
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
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> FeedbacksPublic:
    """Return a page of the workspace's feedback matching every filter given."""
    rows, next_cursor = list_feedback(
        session=session,
        workspace_id=workspace.id,
        filters=filters,
        cursor=cursor,
        limit=limit,
    )
    return FeedbacksPublic(data=[feedback_public(f) for f in rows], next_cursor=next_cursor)


@router.get("/{feedback_id}", response_model=FeedbackDetail, summary="One piece of feedback with its analysis")
def read_feedback(feedback: FeedbackDep, session: SessionDep) -> FeedbackDetail:
    """Return the feedback, its segments (with evidence) and its mentions."""
    return feedback_detail(session=session, feedback=feedback)


@router.delete("/{feedback_id}", status_code=204, summary="Erase a piece of feedback (right to erasure)")
def erase_feedback(feedback: FeedbackDep, session: SessionDep, workspace: WorkspaceDep) -> Response:
    """Delete the feedback and everything derived from it."""
    from app.services import bump_version

    delete_feedback(session=session, feedback=feedback)
    bump_version(session=session, workspace_ids=[workspace.id])
    session.commit()
    return Response(status_code=204)
