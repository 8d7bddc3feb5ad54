"""Database tables (SQLModel). The API's request and response shapes are in `app.schemas`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Return the current UTC time as a naive datetime (the database convention here)."""
    return datetime.now(UTC).replace(tzinfo=None)


def as_naive_utc(value: datetime | date | None) -> datetime | None:
    """Convert an aware datetime or a date to naive UTC; naive values are taken to be UTC already."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


class Kind(StrEnum):
    """What a piece of feedback is."""

    review = "review"
    survey = "survey"
    social = "social"


class FeedbackStatus(StrEnum):
    """Where a piece of feedback is in analysis."""

    pending = "pending"
    analysing = "analysing"
    analysed = "analysed"
    failed = "failed"


class TopicStatus(StrEnum):
    """Where a topic model's computation is (`computing` is also what a queued one reports to clients)."""

    queued = "queued"
    computing = "computing"
    done = "done"
    failed = "failed"


class UploadStatus(StrEnum):
    """Where an upload job is: queued, running (reading rows, then analysing them), done or failed."""

    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class Truncated(TypeDecorator[str]):
    """VARCHAR(length) that stores any string: a longer one is cut to fit, its last character an ellipsis."""

    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or len(value) <= self.length:
            return value
        return value[: self.length - 1] + "\u2026"


def _timestamp(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(DateTime(), nullable=nullable, index=index))


# ---------------------------------------------------------------------------------------------------- tables


class Workspace(SQLModel, table=True):
    """One client or brand: its feedback, keys and settings are seen by nobody else."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, sa_column_kwargs={"unique": True})
    mask_pii: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # bumped by every write that changes what analytics would answer (ETags, caches)
    data_version: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    # the number of taxonomy edits (0: the shipped taxonomy); see app.taxonomy
    taxonomy_version: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0, server_default="0"))
    # the version of its model adapted from corrections (0: the shipped model alone); see app.learning
    model_version: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0, server_default="0"))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(), nullable=False))


class ApiKey(SQLModel, table=True):
    """A workspace API key, stored as the SHA-256 of the key (the key itself is shown once)."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(
        sa_column=Column(Integer, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    name: str = Field(default="default", max_length=200)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(), nullable=False))
    last_used_at: datetime | None = _timestamp()
    revoked_at: datetime | None = _timestamp()


class Feedback(SQLModel, table=True):
    """One piece of customer feedback as stored (text already masked) and its analysis status."""

    __table_args__ = (
        UniqueConstraint("workspace_id", "dedup_key", name="uq_feedback_dedup"),
        Index("ix_feedback_workspace_id_id", "workspace_id", "id"),
        Index("ix_feedback_status_id", "status", "id"),
        Index("ix_feedback_upload_status", "upload_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(sa_column=Column(Integer, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False))
    dedup_key: str = Field(max_length=64)
    external_id: str | None = Field(default=None, max_length=200)
    text: str = Field(sa_column=Column(Text, nullable=False))
    kind: str = Field(default=Kind.review, max_length=16)
    source: str | None = Field(default=None, max_length=100)
    channel: str | None = Field(default=None, max_length=100)
    segment: str | None = Field(default=None, max_length=100)
    language: str | None = Field(default=None, max_length=8)
    rating: float | None = None
    rating_scale: float | None = None
    nps: int | None = None
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column("metadata", JSON, nullable=False))
    created_at: datetime | None = _timestamp(index=True)
    received_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(), nullable=False))
    upload_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("upload.id", ondelete="SET NULL"), nullable=True)
    )
    status: str = Field(default=FeedbackStatus.pending, max_length=16)
    lease_until: datetime | None = _timestamp()
    analysed_at: datetime | None = _timestamp()
    sentiment: float | None = None
    model: str | None = Field(default=None, max_length=100)
    taxonomy_version: int | None = None  # the workspace's taxonomy version it was analysed with
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class SegmentRow(SQLModel, table=True):
    """One analysed clause of a feedback text (offsets into the stored text)."""

    __tablename__ = "segment"

    id: int | None = Field(default=None, primary_key=True)
    feedback_id: int = Field(
        sa_column=Column(Integer, ForeignKey("feedback.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    workspace_id: int
    position: int
    start: int
    end: int
    stage: str | None = Field(default=None, max_length=64)
    stage_score: float
    touchpoint: str | None = Field(default=None, max_length=64)
    touchpoint_score: float
    sentiment: float
    polarity: str = Field(max_length=16)
    emotion: str = Field(max_length=32)
    emotion_score: float
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class MentionRow(SQLModel, table=True):
    """One moment of the journey found in a feedback text."""

    __tablename__ = "mention"
    __table_args__ = (Index("ix_mention_workspace_day", "workspace_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    feedback_id: int = Field(
        sa_column=Column(Integer, ForeignKey("feedback.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    workspace_id: int
    position: int
    stage: str = Field(max_length=64)
    touchpoint: str = Field(max_length=64)
    polarity: str = Field(max_length=16)
    sentiment: float
    emotion: str = Field(max_length=32)
    start: int
    end: int
    confidence: float | None = None  # the model's: moment probability x stage probability (None before 0004)
    # the feedback's own attributes, copied so that analytics filter and group one table
    day: date = Field(sa_column=Column(Date, nullable=False))
    kind: str = Field(default=Kind.review, max_length=16)
    source: str | None = Field(default=None, max_length=100)
    channel: str | None = Field(default=None, max_length=100)
    segment: str | None = Field(default=None, max_length=100)
    language: str | None = Field(default=None, max_length=8)
    rating: float | None = None  # on a 5-point scale
    nps: int | None = None


ALL = "*"  # the rollup's "any touchpoint" / "any emotion"


# The additive measures of a set of mentions, with their type: JourneyRollup's columns, MentionStats' fields,
# the rollup deltas written with every analysis (app.feedback.store) and the sums read back (app.journey.queries).
MEASURES: dict[str, type] = {
    "mentions": int,
    "feedback": int,
    "sentiment_sum": float,
    "sentiment_sq": float,
    "irritant": int,
    "delight": int,
    "neutral": int,
}


class JourneyRollup(SQLModel, table=True):
    """Mentions added up per day, stage, touchpoint and emotion; kept up to date with every analysis.

    Rows whose touchpoint (emotion) is ALL hold the totals over every touchpoint (emotion), so that
    `feedback` (distinct feedback with such a mention) stays exact at each level.
    """

    __tablename__ = "journey_rollup"

    workspace_id: int = Field(primary_key=True)
    day: date = Field(sa_column=Column(Date, primary_key=True))
    stage: str = Field(primary_key=True, max_length=64)
    touchpoint: str = Field(primary_key=True, max_length=64)
    emotion: str = Field(primary_key=True, max_length=32)
    mentions: int = 0
    feedback: int = 0
    sentiment_sum: float = 0.0
    sentiment_sq: float = 0.0
    irritant: int = 0
    delight: int = 0
    neutral: int = 0


class TopicModel(SQLModel, table=True):
    """The topics of one slice of a workspace's mentions (stage, polarity), computed in the background."""

    __tablename__ = "topic_model"
    __table_args__ = (UniqueConstraint("workspace_id", "slice", name="uq_topic_model_slice"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(
        sa_column=Column(Integer, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    slice: str = Field(max_length=200)
    status: str = Field(default="queued", max_length=16)  # queued, computing, done, failed
    data_version: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    requested_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(), nullable=False))
    started_at: datetime | None = _timestamp()
    finished_at: datetime | None = _timestamp()
    lease_until: datetime | None = _timestamp()


class Upload(SQLModel, table=True):
    """A CSV upload job: the stored file, how to read it, and its counts (checkpointed as it goes)."""

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(
        sa_column=Column(Integer, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    status: str = Field(default=UploadStatus.queued, max_length=16)
    filename: str = Field(max_length=500)
    stored_path: str = Field(max_length=1000)
    size_bytes: int = Field(sa_column=Column(BigInteger, nullable=False))
    sha256: str = Field(max_length=64)
    kind: str = Field(default=Kind.review, max_length=16)
    source: str | None = Field(default=None, max_length=100)
    mapping: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    encoding: str | None = Field(default=None, max_length=32)
    delimiter: str | None = Field(default=None, max_length=4)
    columns: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    rows_read: int = 0
    rows_stored: int = 0
    rows_duplicate: int = 0
    rows_failed: int = 0
    bytes_read: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    last_line: int = 0  # checkpoint: every record starting at or before this line is counted above
    reading_done: bool = False
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(), nullable=False))
    started_at: datetime | None = _timestamp()
    finished_at: datetime | None = _timestamp()
    lease_until: datetime | None = _timestamp()


class UploadRowError(SQLModel, table=True):
    """One rejected row of an upload (the first `max_listed_errors` are kept; all are counted)."""

    __tablename__ = "upload_error"

    id: int | None = Field(default=None, primary_key=True)
    upload_id: int = Field(
        sa_column=Column(Integer, ForeignKey("upload.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    line: int
    # the CSV's own column name, of any length: cut to the column's size (a longer one failed the whole chunk,
    # and the upload was retried at every lease, forever)
    column: str | None = Field(default=None, sa_column=Column(Truncated(200), nullable=True))
    reason: str = Field(sa_column=Column(Text, nullable=False))


class ReanalysisStatus(StrEnum):
    """Where a re-analysis job is: queued, running (batch by batch, checkpointed), done or failed."""

    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class TaxonomyEdit(SQLModel, table=True):
    """One edit of a workspace's taxonomy (add, update, retire, merge): its version is the edit's rank, and the
    workspace's taxonomy is the shipped one with its edits applied in order (app.taxonomy.service)."""

    __tablename__ = "taxonomy_edit"
    __table_args__ = (UniqueConstraint("workspace_id", "version", name="uq_taxonomy_edit_version"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(sa_column=Column(Integer, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False))
    version: int
    family: str = Field(max_length=16)
    action: str = Field(max_length=16)
    label_id: str = Field(max_length=64)
    change: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    author: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(), nullable=False))


class Correction(SQLModel, table=True):
    """A person's correction of one mention of a feedback (set labels, delete, add): applied to the stored mentions
    at once and again after every re-analysis (app.corrections)."""

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(
        sa_column=Column(Integer, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    feedback_id: int = Field(
        sa_column=Column(Integer, ForeignKey("feedback.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    action: str = Field(max_length=16)
    start: int
    end: int
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    author: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(), nullable=False))


class Reanalysis(SQLModel, table=True):
    """A re-analysis job: the workspace's analysed feedback analysed again, in id order, checkpointed per batch."""

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(
        sa_column=Column(Integer, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    status: str = Field(default=ReanalysisStatus.queued, max_length=16)
    taxonomy_version: int = 0
    model: str | None = Field(default=None, max_length=100)
    total: int = 0
    done: int = 0
    last_feedback_id: int = 0  # checkpoint: every feedback up to this id is re-analysed
    author: str | None = Field(default=None, max_length=200)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(), nullable=False))
    started_at: datetime | None = _timestamp()
    finished_at: datetime | None = _timestamp()
    lease_until: datetime | None = _timestamp()


class LearningStatus(StrEnum):
    """Where a workspace's adapted model is: idle (learnt up to `last_correction_id`), fitting, or failed."""

    idle = "idle"
    fitting = "fitting"
    failed = "failed"


class WorkspaceModel(SQLModel, table=True):
    """A workspace's model adapted from its corrections (`nlp.adapt.Adapter`, as bytes) and its model score;
    refitted in the background when corrections newer than `last_correction_id` exist (app.learning)."""

    __tablename__ = "workspace_model"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(
        sa_column=Column(Integer, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False, unique=True)
    )
    status: str = Field(default=LearningStatus.fitting, max_length=16)
    version: int = 0  # 0: nothing learnt yet (the shipped model)
    last_correction_id: int = 0  # every correction up to this id is learnt
    corrections: int = 0
    examples: int = 0
    adapted_score: float | None = None
    shipped_score: float | None = None
    scored_items: int = 0
    folds: int = 0
    fit_seconds: float | None = None
    adapter: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    fitted_at: datetime | None = _timestamp()
    lease_until: datetime | None = _timestamp()
