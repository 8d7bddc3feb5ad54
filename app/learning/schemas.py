"""What GET /v1/model and GET /v1/review-queue answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ModelScorePublic(BaseModel):
    """The model score, measured on the workspace's corrected clauses: each labelled by an adapted model fitted
    without its feedback text (`folds`-fold cross-validation), beside the shipped model on the same items."""

    adapted: float | None = Field(description="Accuracy of the workspace's adapted model (null: too few texts).")
    shipped: float | None = Field(description="Accuracy of the shipped model on the same items.")
    items: int = Field(description="Corrected labels scored (one per label of each corrected clause).")
    folds: int


class ModelPublic(BaseModel):
    """The workspace's model: the shipped model, and what it learnt from the workspace's corrections."""

    workspace_id: int
    base_model: str = Field(description="The shipped model the workspace's model adapts (name-version).")
    version: int = Field(description="The adapted model's version (0: nothing learnt, the shipped model alone).")
    status: str = Field(description="idle, fitting (a refit runs) or failed (see error).")
    corrections_learnt: int = Field(description="Corrections the current version learnt from.")
    examples: int = Field(description="Corrected clauses it learnt from.")
    corrections_pending: int = Field(description="Corrections made since: the next refit learns them.")
    families: list[str] = Field(description="The label families it changes (stage, touchpoint, polarity).")
    score: ModelScorePublic | None
    fitted_at: datetime | None
    fit_seconds: float | None = Field(description="How long the last refit took (embedding, scoring, fitting).")
    error: str | None = None


class ReviewItem(BaseModel):
    """A mention the model is least sure of: correct it (POST /v1/feedback/{feedback_id}/corrections with
    `mention`) to teach the workspace's model."""

    feedback_id: int
    mention: int = Field(description="The mention's rank in the feedback's mentions.")
    text: str = Field(description="The mention's words.")
    stage: str
    touchpoint: str
    polarity: str
    confidence: float = Field(description="The model's: moment probability x stage probability.")


class ReviewQueue(BaseModel):
    """The workspace's mentions the model is least sure of, least sure first (corrected ones left out)."""

    data: list[ReviewItem]
