"""What clients send to correct a mention, and what they get back or export."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.corrections.apply import CorrectionAction
from app.schemas import Identifier, MentionPublic

Polarity = Literal["irritant", "delight", "neutral"]
LabelId = str


class CorrectionCreate(BaseModel):
    """One correction of one analysed feedback.

    - `set`: give `mention` (its rank in GET /v1/feedback/{id}'s `mentions`) and any of `stage`, `touchpoint`,
      `polarity`;
    - `delete`: give `mention`;
    - `add` (a moment the model missed): give `start` and `end` (character offsets in the text, in code points)
      and all of `stage`, `touchpoint`, `polarity`.
    """

    model_config = ConfigDict(extra="forbid")

    action: CorrectionAction
    mention: int | None = Field(default=None, ge=0, description="The mention's rank (set, delete).")
    start: int | None = Field(default=None, ge=0, le=20_000, description="First character of the span (add).")
    end: int | None = Field(default=None, ge=1, le=20_000, description="Character after the span (add).")
    stage: LabelId | None = Field(default=None, max_length=64)
    touchpoint: LabelId | None = Field(default=None, max_length=64)
    polarity: Polarity | None = None
    author: Identifier | None = Field(default=None, description="Who corrects (free text: a name or an email).")

    @model_validator(mode="after")
    def _complete(self) -> CorrectionCreate:
        labels = [self.stage, self.touchpoint, self.polarity]
        if self.action == CorrectionAction.add:
            if self.start is None or self.end is None or None in labels or self.mention is not None:
                raise ValueError("add needs start, end, stage, touchpoint and polarity (and no mention)")
        else:
            if self.mention is None or self.start is not None or self.end is not None:
                raise ValueError(f"{self.action} needs mention (and no start or end)")
            if self.action == CorrectionAction.set and all(x is None for x in labels):
                raise ValueError("set needs at least one of stage, touchpoint, polarity")
            if self.action == CorrectionAction.delete and any(x is not None for x in labels):
                raise ValueError("delete takes no stage, touchpoint or polarity")
        return self


class CorrectionPublic(BaseModel):
    """A stored correction: who, when, which words, the labels before and after."""

    id: int
    feedback_id: int
    external_id: str | None = Field(description="The feedback's external_id, as sent.")
    action: CorrectionAction
    start: int
    end: int
    text: str = Field(description="The words corrected (text[start:end]).")
    before: dict[str, str] | None = Field(description="stage, touchpoint, polarity before (null for add).")
    after: dict[str, str] | None = Field(description="The labels set (null for delete).")
    workspace_id: int
    author: str | None
    created_at: datetime


class CorrectionResult(BaseModel):
    """The correction stored, and the feedback's mentions as every figure now counts them."""

    correction: CorrectionPublic
    mentions: list[MentionPublic]


class CorrectionsPublic(BaseModel):
    """The workspace's corrections, oldest first."""

    data: list[CorrectionPublic]
