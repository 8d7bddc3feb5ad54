"""What clients send to edit a workspace's taxonomy and what they get back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from app.schemas import Identifier, without_nul

Family = Literal["stages", "touchpoints"]
LabelId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), BeforeValidator(without_nul)
]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=1000), BeforeValidator(without_nul)
]
Example = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), BeforeValidator(without_nul)
]
Author = Annotated[Identifier, Field(description="Who made the change (free text: a name or an email).")]


class LabelNames(BaseModel):
    """Display names per language."""

    model_config = ConfigDict(extra="forbid")

    fr: Name | None = None
    en: Name | None = None

    def given(self) -> dict[str, str]:
        """The names given, without the missing languages."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class LabelCreate(BaseModel):
    """A new label: predicted for new feedback at once, by similarity to its description and examples."""

    model_config = ConfigDict(extra="forbid")

    id: LabelId = Field(description="Stable snake_case id (a-z, 0-9, _), never reused.", examples=["parking"])
    names: LabelNames = Field(default_factory=LabelNames, examples=[{"fr": "Parking", "en": "Car park"}])
    description: Description = Field(description="What the label covers: the model compares feedback with it.")
    examples: list[Example] = Field(
        default_factory=list, max_length=20, description="A few typical sentences (3 or more predict best)."
    )
    author: Author | None = None


class LabelUpdate(BaseModel):
    """A rename or a new description / examples (fields left out keep their value)."""

    model_config = ConfigDict(extra="forbid")

    names: LabelNames | None = None
    description: Description | None = None
    examples: list[Example] | None = Field(default=None, max_length=20)
    author: Author | None = None


class LabelRetire(BaseModel):
    """Who retires the label."""

    model_config = ConfigDict(extra="forbid")

    author: Author | None = None


class LabelMerge(BaseModel):
    """Labels merged into another: their mentions count under it, now and after any re-analysis."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    sources: list[LabelId] = Field(alias="from", min_length=1, max_length=50, description="The labels merged away.")
    into: LabelId = Field(description="The active label they are merged into.")
    author: Author | None = None


class LabelPart(BaseModel):
    """One of the labels a split label becomes."""

    model_config = ConfigDict(extra="forbid")

    id: LabelId = Field(description="Stable snake_case id of the new label.", examples=["check_in"])
    names: LabelNames = Field(default_factory=LabelNames, examples=[{"fr": "Enregistrement", "en": "Check-in"}])
    description: Description = Field(description="What the new label covers: the model compares feedback with it.")
    examples: list[Example] = Field(
        default_factory=list, max_length=20, description="A few typical sentences (3 or more predict best)."
    )


class LabelSplit(BaseModel):
    """A label split into two or more new ones: it is retired and they are predicted in its place."""

    model_config = ConfigDict(extra="forbid")

    into: list[LabelPart] = Field(min_length=2, max_length=10, description="The new labels, two or more.")
    author: Author | None = None


class LabelPublic(BaseModel):
    """One label of the workspace's taxonomy."""

    id: str
    names: dict[str, str]
    description: str
    examples: list[str]
    status: Literal["active", "retired", "merged"]
    merged_into: str | None = Field(default=None, description="For a merged label: the label it counts under.")
    origin: Literal["shipped", "workspace"] = Field(description="Shipped with the model, or added by the workspace.")


class TaxonomyPublic(BaseModel):
    """The workspace's taxonomy: every label of the editable families, active or not, in taxonomy order."""

    version: int = Field(description="The number of edits so far (0: the shipped taxonomy).")
    stages: list[LabelPublic]
    touchpoints: list[LabelPublic]


class TaxonomyEditPublic(BaseModel):
    """One version of the taxonomy: the edit that made it, who and when."""

    version: int
    family: str
    action: Literal["add", "update", "retire", "merge", "split"]
    label: str = Field(description="The label edited (for a merge: the label merged into).")
    change: dict[str, Any] = Field(description="What was sent: names, description, examples, or `from` for a merge.")
    author: str | None
    created_at: datetime


class TaxonomyHistory(BaseModel):
    """Every version of the workspace's taxonomy, oldest first."""

    version: int
    data: list[TaxonomyEditPublic]
