"""The workspace's model: what it learnt from corrections, its score, and where a review teaches it most."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from app.api.deps import PipelineDep, SessionDep, WorkspaceDep
from app.learning.schemas import ModelPublic, ModelScorePublic, ReviewItem, ReviewQueue
from app.learning.service import model_of
from app.models import Feedback, MentionRow
from nlp.adapt import Adapter

router = APIRouter(prefix="/v1", tags=["learning"])


@router.get("/model", response_model=ModelPublic, summary="The workspace's model and its score")
def get_model(session: SessionDep, workspace: WorkspaceDep, pipeline: PipelineDep) -> ModelPublic:
    """The version of the workspace's model adapted from its corrections, how many it learnt, its model score
    (cross-validated on the corrections) beside the shipped model's on the same items, and when it was fitted.
    A refit starts within seconds of a correction."""
    assert workspace.id is not None
    model, pending, _ = model_of(session=session, workspace_id=workspace.id)
    manifest = pipeline.manifest
    base = manifest.tag if manifest else "custom"
    if model is None:
        return ModelPublic(
            workspace_id=workspace.id, base_model=base, version=0, status="idle", corrections_learnt=0, examples=0,
            corrections_pending=pending, families=[], score=None, fitted_at=None, fit_seconds=None,
        )  # fmt: skip
    families = sorted(Adapter.from_bytes(model.adapter).families) if model.adapter else []
    score = None
    if model.scored_items:
        score = ModelScorePublic(
            adapted=model.adapted_score, shipped=model.shipped_score, items=model.scored_items, folds=model.folds
        )
    return ModelPublic(
        workspace_id=workspace.id, base_model=base, version=model.version, status=model.status,
        corrections_learnt=model.corrections, examples=model.examples, corrections_pending=pending,
        families=families, score=score, fitted_at=model.fitted_at, fit_seconds=model.fit_seconds, error=model.error,
    )  # fmt: skip


@router.get("/review-queue", response_model=ReviewQueue, summary="The mentions the model is least sure of")
def review_queue(
    session: SessionDep,
    workspace: WorkspaceDep,
    limit: Annotated[int, Query(ge=1, le=200, description="How many mentions.")] = 20,
) -> ReviewQueue:
    """The workspace's mentions ranked by the model's confidence, least sure first: reviewing them teaches the
    workspace's model the most. Corrected mentions (confidence 1) and mentions analysed before confidences were
    stored are left out."""
    m = MentionRow.__table__.c
    rows = session.execute(
        select(
            m.feedback_id,
            m.position,
            m.start,
            m.end,
            m.stage,
            m.touchpoint,
            m.polarity,
            m.confidence,
            func.substr(Feedback.text, m.start + 1, m.end - m.start).label("words"),
        )  # fmt: skip
        .join(Feedback, Feedback.id == m.feedback_id)
        .where(m.workspace_id == workspace.id, m.confidence.is_not(None), m.confidence < 1.0)
        .order_by(m.confidence, m.feedback_id, m.position)
        .limit(limit)
    ).all()
    return ReviewQueue(
        data=[
            ReviewItem(
                feedback_id=r.feedback_id,
                mention=r.position,
                text=r.words,
                stage=r.stage,
                touchpoint=r.touchpoint,
                polarity=r.polarity,
                confidence=r.confidence,
            )  # fmt: skip
            for r in rows
        ]
    )
