"""The API's request and response shapes (database tables are in `app.models`).

What comes in is bounded here, once for every way in (JSON, CSV rows): strings without NUL characters (PostgreSQL
text cannot hold one) and no longer than their columns, numbers finite and in range, dates within the calendar
both databases and the date arithmetic hold. docs/LIMITS.md lists every limit.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.models import Kind


def _as_aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


UtcDatetime = Annotated[datetime, AfterValidator(_as_aware)]

# The calendar a date may fall in: far from year 1 and 9999, where a day before or after (a period's bounds, a
# time zone's offset) would overflow Python's dates.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)

Dated = TypeVar("Dated", bound=date)


def within_calendar(value: Dated) -> Dated:
    """The date or date-time if its (local) day is within FIRST_DAY..LAST_DAY."""
    day = value.date() if isinstance(value, datetime) else value
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"dates are between {FIRST_DAY} and {LAST_DAY}")
    return value


def without_nul(value: Any) -> Any:
    """The value, unless it is a string holding a NUL character."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("contains a NUL character (\\u0000)")
    return value


Day = Annotated[date, AfterValidator(within_calendar)]
DayOrTime = Annotated[date | datetime, AfterValidator(within_calendar)]
# Strings as their columns hold them: no NUL, at most as long as the column.
AnalysedText = Annotated[str, StringConstraints(max_length=20_000), BeforeValidator(without_nul)]
Attribute = Annotated[str, StringConstraints(max_length=100), BeforeValidator(without_nul)]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=200), BeforeValidator(without_nul)]
FeedbackText = Annotated[str, StringConstraints(min_length=1, max_length=20_000), BeforeValidator(without_nul)]

MAX_RATING_SCALE = 1000.0
# Generous: CSV exports put every unmapped column in metadata (survey exports: long questions as headers).
METADATA_KEYS = 200
METADATA_KEY_CHARS = 200
METADATA_VALUE_CHARS = 20_000
SAFE_INTEGER = 2**53 - 1  # the largest integer a JSON client (JavaScript) reads exactly

MetadataValue = str | int | float | bool | None


def _metadata_value(value: Any) -> MetadataValue:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > SAFE_INTEGER:
            raise ValueError(f"integers are between -{SAFE_INTEGER} and {SAFE_INTEGER}")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value
    if isinstance(value, str):
        if len(value) > METADATA_VALUE_CHARS:
            raise ValueError(f"longer than {METADATA_VALUE_CHARS} characters")
        return str(without_nul(value)).strip()
    raise ValueError("must be a string, a number, true, false or null")


MetadataKey = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=METADATA_KEY_CHARS),
    AfterValidator(without_nul),
]
MetadataEntry = Annotated[MetadataValue, PlainValidator(_metadata_value, json_schema_input_type=MetadataValue)]


class FeedbackBase(BaseModel):
    """Fields a client sends about one piece of feedback."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    external_id: Identifier | None = None
    text: FeedbackText
    kind: Kind = Kind.review
    source: Attribute | None = None
    channel: Attribute | None = None
    created_at: Annotated[datetime | date, AfterValidator(within_calendar)] | None = None
    # before rating: rating is checked against it
    rating_scale: float | None = Field(default=None, ge=1, le=MAX_RATING_SCALE)
    rating: float | None = Field(default=None, ge=0)
    nps: int | None = Field(default=None, ge=0, le=10)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    segment: Attribute | None = None
    metadata: dict[MetadataKey, MetadataEntry] = Field(default_factory=dict, max_length=METADATA_KEYS)


class FeedbackCreate(FeedbackBase):
    """One item of POST /v1/feedback."""

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is blank")
        return value

    @field_validator("rating")
    @classmethod
    def _rating_within_scale(cls, value: float | None, info: ValidationInfo) -> float | None:
        scale = info.data.get("rating_scale") or 5.0
        if value is not None and value > scale:
            raise ValueError(f"rating {value:g} is above rating_scale {scale:g}")
        # 6 decimals: a rating of 1e-300 would underflow (an error on PostgreSQL) once put on the 5-point scale
        return None if value is None else round(value, 6)

    @model_validator(mode="after")
    def _default_scale(self) -> FeedbackCreate:
        if self.rating is not None and self.rating_scale is None:
            self.rating_scale = 5.0
        return self


class FeedbackBatch(BaseModel):
    """The body of POST /v1/feedback: items are validated one by one (see FeedbackCreate)."""

    items: list[Any] = Field(json_schema_extra={"items": {"$ref": "#/components/schemas/FeedbackCreate"}})


class ItemResult(BaseModel):
    """What happened to one valid item of a batch."""

    index: int
    id: int
    status: str  # stored | duplicate


class ItemError(BaseModel):
    """Why one item of a batch was rejected."""

    index: int
    field: str | None
    message: str


class BatchResult(BaseModel):
    """The answer to POST /v1/feedback."""

    stored: int
    duplicates: int
    failed: int
    items: list[ItemResult]
    errors: list[ItemError]


class EvidencePublic(BaseModel):
    """A word that moved a segment's sentiment."""

    text: str
    start: int
    end: int
    weight: float


class SegmentPublic(BaseModel):
    """One analysed clause."""

    text: str
    start: int
    end: int
    stage: str | None
    stage_score: float
    touchpoint: str | None
    touchpoint_score: float
    sentiment: float
    polarity: str
    emotion: str
    emotion_score: float
    evidence: list[EvidencePublic]


class MentionPublic(BaseModel):
    """One moment of the journey with its text span."""

    text: str
    stage: str
    touchpoint: str
    polarity: str
    sentiment: float
    emotion: str
    start: int
    end: int
    confidence: float | None = Field(
        default=None,
        description="How sure the model is that this is a moment with this stage (0-1): the clauses' moment "
        "probability times their stage probability. Null for mentions analysed by models before journey-v1 "
        "of 2026-12-06.",
    )


class FeedbackPublic(BaseModel):
    """A stored piece of feedback as the API shows it."""

    id: int
    external_id: str | None
    text: str
    kind: str
    source: str | None
    channel: str | None
    segment: str | None
    language: str | None
    rating: float | None
    rating_scale: float | None
    nps: int | None
    metadata: dict[str, Any]
    created_at: UtcDatetime | None
    received_at: UtcDatetime
    upload_id: int | None
    status: str
    sentiment: float | None
    model: str | None
    taxonomy_version: int | None = Field(
        default=None, description="The workspace taxonomy version it was analysed with (GET /v1/taxonomy/history)."
    )
    mentions: list[MentionPublic] | None = None  # in listings: only with include=mentions
    evidence: list[EvidencePublic] | None = None


class FeedbackDetail(FeedbackPublic):
    """A piece of feedback with its segments and mentions."""

    segments: list[SegmentPublic]
    mentions: list[MentionPublic]


class FeedbacksPublic(BaseModel):
    """A page of feedback; pass `next_cursor` as `cursor` for the next page (null: no more)."""

    data: list[FeedbackPublic]
    next_cursor: str | None


class RowErrorPublic(BaseModel):
    """A rejected CSV row: its line in the file (the header is line 1), the column and why."""

    line: int
    column: str | None
    reason: str


class UploadPublic(BaseModel):
    """An upload job's state."""

    id: int
    status: str
    filename: str
    size_bytes: int
    kind: str
    source: str | None
    encoding: str | None
    delimiter: str | None
    columns: dict[str, str]
    rows_read: int
    rows_stored: int
    rows_duplicate: int
    rows_failed: int
    rows_analysed: int = Field(description="Feedback stored from this upload whose analysis is over (done or failed).")
    progress: float = Field(
        description="0..1: 0.1 x the share of the file read + 0.9 x rows analysed over rows expected; 1 once done."
    )
    error: str | None
    errors: list[RowErrorPublic]
    errors_listed: int
    created_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None


class UploadsPublic(BaseModel):
    """A page of upload jobs, newest first; pass `next_cursor` as `cursor` for the next page (null: no more)."""

    data: list[UploadPublic]
    next_cursor: str | None


class WorkspacePublic(BaseModel):
    """A workspace and its settings."""

    id: int
    name: str
    mask_pii: list[str]
    created_at: UtcDatetime


class WorkspaceCreated(WorkspacePublic):
    """A new workspace with its first API key (shown once, stored hashed)."""

    api_key: str


class WorkspaceCreate(BaseModel):
    """The body of POST /admin/workspaces."""

    model_config = ConfigDict(extra="forbid")

    name: Identifier
    mask_pii: list[str] | None = None


class WorkspaceUpdate(BaseModel):
    """The body of PATCH /v1/workspace."""

    model_config = ConfigDict(extra="forbid")

    mask_pii: list[str]


class AnalyzeItem(BaseModel):
    """One text for stateless analysis."""

    model_config = ConfigDict(extra="forbid")

    text: AnalysedText
    id: Identifier | None = None
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")


class AnalyzeRequest(BaseModel):
    """The body of POST /v1/analyze: `texts` (plain strings) or `items` (with id and language)."""

    model_config = ConfigDict(extra="forbid")

    texts: list[AnalysedText] | None = None
    items: list[AnalyzeItem] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> AnalyzeRequest:
        if (self.texts is None) == (self.items is None):
            raise ValueError("send exactly one of 'texts' or 'items'")
        return self
