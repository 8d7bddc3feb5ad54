"""Corrections: a person fixes a mention (labels, deletion, a missed moment), every figure follows at once;
the workspace's corrections exported as JSON or JSONL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from app.api.deps import FeedbackDep, SessionDep, WorkersDep, WorkspaceDep
from app.core.db import reader, retry_transaction
from app.corrections.schemas import CorrectionCreate, CorrectionPublic, CorrectionResult, CorrectionsPublic
from app.corrections.service import correct, export_rows
from app.feedback.records import mention_public
from app.jobs.queue import JobKind
from app.journey.scope import check_allowed, workspace_taxonomy
from app.models import Correction, Feedback
from app.workspaces.auth import refresh_workspace

router = APIRouter(prefix="/v1", tags=["corrections"])


def correction_public(correction: Correction, feedback: Feedback) -> CorrectionPublic:
    """A stored correction as the API shows it."""
    assert correction.id is not None and feedback.id is not None
    return CorrectionPublic(
        id=correction.id, feedback_id=feedback.id, external_id=feedback.external_id, action=correction.action,
        start=correction.start, end=correction.end, text=feedback.text[correction.start : correction.end],
        before=correction.before, after=correction.after, workspace_id=correction.workspace_id,
        author=correction.author, created_at=correction.created_at,
    )  # fmt: skip


@router.post(
    "/feedback/{feedback_id}/corrections",
    status_code=201,
    response_model=CorrectionResult,
    summary="Correct a mention of a feedback",
)
def create_correction(
    body: CorrectionCreate,
    feedback: FeedbackDep,
    request: Request,
    session: SessionDep,
    workspace: WorkspaceDep,
    workers: WorkersDep,
) -> CorrectionResult:
    """Change a mention's stage, touchpoint or polarity, delete it, or add a missed one by its character span.
    Every figure (curve, matrix, themes, KPIs) counts the correction at once; a re-analysis applies it again.
    409 while the feedback is not analysed yet."""
    taxonomy = workspace_taxonomy(request, workspace)
    if body.stage is not None:
        check_allowed("stage", [body.stage], taxonomy.ids("stages"))
    if body.touchpoint is not None:
        check_allowed("touchpoint", [body.touchpoint], taxonomy.ids("touchpoints"))
    labels = {k: v for k, v in body.model_dump(include={"stage", "touchpoint", "polarity"}).items() if v is not None}
    assert workspace.id is not None and feedback.id is not None
    workspace_id, feedback_id = workspace.id, feedback.id
    span = (body.start, body.end) if body.start is not None and body.end is not None else None
    correction, mentions = retry_transaction(
        session,
        lambda: correct(
            session=session,
            workspace_id=workspace_id,
            feedback_id=feedback_id,
            action=body.action,
            mention=body.mention,
            span=span,
            labels=labels,
            author=body.author,
        ),  # fmt: skip
        what="the correction",
    )
    refresh_workspace(request, workspace_id)  # this process's next poll sees the correction at once
    if workers is not None:
        workers.wake(JobKind.learning)  # the workspace's model learns the correction (app.learning)
    return CorrectionResult(
        correction=correction_public(correction, feedback),
        mentions=[mention_public(_Row(m), feedback.text) for m in mentions],
    )


class _Row:
    """A mention row read as a mapping, seen with attributes (as `mention_public` reads rows)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _jsonl(engine: Any, workspace_id: int) -> Iterator[bytes]:
    with Session(reader(engine)) as session:
        for correction, feedback in export_rows(session=session, workspace_id=workspace_id):
            line = correction_public(correction, feedback).model_dump(mode="json")
            yield (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")


@router.get(
    "/corrections",
    response_model=CorrectionsPublic,
    summary="Export the workspace's corrections",
    responses={200: {"content": {"application/x-ndjson": {}}, "description": "JSON, or JSONL with format=jsonl."}},
)
def export_corrections(
    request: Request,
    session: SessionDep,
    workspace: WorkspaceDep,
    format: Annotated[
        Literal["json", "jsonl"], Query(description="json (one document) or jsonl (a line each).")
    ] = "json",
) -> Response | CorrectionsPublic:
    """Every correction, oldest first: which feedback and words, the labels before and after, who and when."""
    assert workspace.id is not None
    if format == "jsonl":
        return StreamingResponse(
            _jsonl(request.app.state.engine, workspace.id),
            media_type="application/x-ndjson",
            headers={"content-disposition": 'attachment; filename="corrections.jsonl"'},
        )
    return CorrectionsPublic(
        data=[correction_public(c, f) for c, f in export_rows(session=session, workspace_id=workspace.id)]
    )
