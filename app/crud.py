"""Data access: `verb_noun(*, session, ...)` functions over the tables."""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, String, and_, case, exists, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

from app.core.errors import AppError
from app.core.security import hash_api_key, key_prefix, new_api_key
from app.feedback.records import mention_public, segment_public
from app.models import (
    ApiKey,
    Feedback,
    FeedbackStatus,
    MentionRow,
    SegmentRow,
    Upload,
    UploadRowError,
    Workspace,
    as_naive_utc,
)
from app.schemas import (
    MAX_RATING_SCALE,
    EvidencePublic,
    FeedbackDetail,
    FeedbackPublic,
    MentionPublic,
    RowErrorPublic,
    UploadPublic,
)
from nlp.pii import PII_KINDS

_Row = TypeVar("_Row", Feedback, Upload)


def check_pii_kinds(kinds: Sequence[str]) -> list[str]:
    """Return the kinds in PII_KINDS order, or 422 naming the unknown ones and the valid ones."""
    unknown = sorted(set(kinds) - set(PII_KINDS))
    if unknown:
        raise AppError(
            422, "invalid_pii_kind", f"Unknown mask_pii kind(s): {', '.join(unknown)}. Valid: {', '.join(PII_KINDS)}"
        )
    return [kind for kind in PII_KINDS if kind in kinds]


def create_workspace(*, session: Session, name: str, mask_pii: Sequence[str] | None = None) -> tuple[Workspace, str]:
    """Create a workspace with its first API key; return both (the key is not stored, only its hash).

    A name already taken answers 409 `workspace_exists`, also when another request creates it at the same
    moment: the unique name decides (the second INSERT waits for the first and fails), never a 500.
    """
    taken = AppError(409, "workspace_exists", f"A workspace named '{name}' already exists", name=name)
    if session.scalar(select(Workspace.id).where(Workspace.name == name)) is not None:
        raise taken
    kinds = check_pii_kinds(PII_KINDS if mask_pii is None else mask_pii)
    workspace = Workspace(name=name, mask_pii=kinds)
    try:
        with session.begin_nested():  # a savepoint: the caller's transaction survives the lost race
            session.add(workspace)
            session.flush()
    except IntegrityError as error:
        if session.scalar(select(Workspace.id).where(Workspace.name == name)) is None:
            raise  # another constraint: not a name taken meanwhile
        raise taken from error
    key = create_api_key(session=session, workspace=workspace)
    return workspace, key


def create_api_key(*, session: Session, workspace: Workspace, name: str = "default") -> str:
    """Issue a new API key for `workspace`; return it (shown once)."""
    key = new_api_key()
    session.add(ApiKey(workspace_id=workspace.id, name=name, prefix=key_prefix(key), key_hash=hash_api_key(key)))
    session.flush()
    return key


def get_workspace_by_name(*, session: Session, name: str) -> Workspace | None:
    """Return the workspace called `name`, if any."""
    return session.scalar(select(Workspace).where(Workspace.name == name))


@dataclass(frozen=True)
class FeedbackFilters:
    """Filters shared by feedback listing and analytics; mention-level ones must hold in the same mention.

    Dates are whole UTC days, both bounds inclusive (`utc_day` normalises what a client sends): the feedback
    rows, their mentions and the daily rollup then select exactly the same population.
    """

    date_from: date | None = None
    date_to: date | None = None
    kind: Sequence[str] = ()
    source: Sequence[str] = ()
    channel: Sequence[str] = ()
    segment: Sequence[str] = ()
    language: Sequence[str] = ()
    rating_min: float | None = None
    rating_max: float | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    stage: Sequence[str] = ()
    touchpoint: Sequence[str] = ()
    polarity: Sequence[str] = ()
    emotion: Sequence[str] = ()
    q: str | None = None
    status: Sequence[str] = ()

    def feedback_conditions(self) -> list[ColumnElement[bool]]:
        """Conditions on the feedback row itself.

        The date of a piece of feedback is when it was written (`created_at`), else when it was received;
        ratings compare on a 5-point scale whatever scale each was given on.
        """
        conditions: list[ColumnElement[bool]] = []
        when = func.coalesce(Feedback.created_at, Feedback.received_at)
        if self.date_from is not None:
            conditions.append(when >= as_naive_utc(self.date_from))
        if self.date_to is not None:  # the last day is included whole
            conditions.append(when < as_naive_utc(self.date_to + _ONE_DAY))
        for column, values in (
            (Feedback.kind, self.kind),
            (Feedback.source, self.source),
            (Feedback.channel, self.channel),
            (Feedback.segment, self.segment),
            (Feedback.language, self.language),
            (Feedback.status, self.status),
        ):
            if values:
                conditions.append(column.in_(list(values)))
        rating = rating_on_five()
        if self.rating_min is not None:
            conditions.append(rating >= self.rating_min)
        if self.rating_max is not None:
            conditions.append(rating <= self.rating_max)
        for key, value in self.metadata.items():
            conditions.append(metadata_text(Feedback.__table__.c.metadata, key) == value)
        if self.q:
            conditions.append(func.lower(Feedback.text).contains(self.q.lower()))
        return conditions

    def mention_conditions(self) -> list[ColumnElement[bool]]:
        """Conditions on one mention of the feedback."""
        conditions: list[ColumnElement[bool]] = []
        for column, values in (
            (MentionRow.stage, self.stage),
            (MentionRow.touchpoint, self.touchpoint),
            (MentionRow.polarity, self.polarity),
            (MentionRow.emotion, self.emotion),
        ):
            if values:
                conditions.append(column.in_(list(values)))
        return conditions

    def conditions(self) -> list[ColumnElement[bool]]:
        """Conditions selecting the feedback: on its row, and the mention-level ones held by one of its mentions."""
        conditions = self.feedback_conditions()
        mention_level = self.mention_conditions()
        if mention_level:
            conditions.append(exists().where(and_(MentionRow.feedback_id == Feedback.id, *mention_level)))
        return conditions


_ONE_DAY = timedelta(days=1)


class _MetadataText(FunctionElement[str]):
    """A metadata value as text (see `metadata_text`); compiled per database below."""

    type = String()
    inherit_cache = True
    name = "metadata_text"


def metadata_text(column: ColumnElement[Any], key: str) -> ColumnElement[str]:
    """The text of a feedback's metadata value under `key` (NULL when absent), as metadata filters compare it.

    Any key is addressed (quotes included), and on SQLite rows stored before numbers were checked, whose JSON holds
    NaN or Infinity (Python's json writes them; SQLite's JSON functions refuse the whole row, and the query, as
    malformed), read those values as null; PostgreSQL's json type never held them.
    """
    return _MetadataText(column, literal(key, String()))


@compiles(_MetadataText)
def _metadata_text(element: _MetadataText, compiler: SQLCompiler, **kw: Any) -> str:
    column, key = element.clauses.clauses
    return f"({compiler.process(column.op('->>')(key), **kw)})"


# What Python's json writes for non-finite floats, '-Infinity' first: it holds 'Infinity'.
_NON_FINITE = ("-Infinity", "Infinity", "NaN")


@compiles(_MetadataText, "sqlite")
def _metadata_text_sqlite(element: _MetadataText, compiler: SQLCompiler, **kw: Any) -> str:
    column, key = (compiler.process(clause, **kw) for clause in element.clauses.clauses)
    repaired = column
    for token in _NON_FINITE:
        repaired = f"replace({repaired}, '{token}', 'null')"
    readable = (
        f"CASE WHEN json_valid({column}) THEN {column} WHEN json_valid({repaired}) THEN {repaired} ELSE '{{}}' END"
    )
    return f"(SELECT CAST(entry.value AS VARCHAR) FROM json_each({readable}) AS entry WHERE entry.key = {key})"


def rating_on_five() -> ColumnElement[Any]:
    """A feedback's rating on the 5-point scale, NULL unless its rating and scale are numbers the door accepts.

    New rows are checked on the way in (`app.schemas`); rows written before hold what they were sent (infinity,
    1e308 on a scale of 1e308, 1e-300): left out here, they cannot overflow, underflow (errors on PostgreSQL) or
    turn a sum into NaN.
    """
    f = Feedback.__table__.c
    scale = func.coalesce(f.rating_scale, 5.0)
    accepted = and_(
        scale.between(1.0, MAX_RATING_SCALE),
        f.rating.between(0.0, MAX_RATING_SCALE),
        f.rating <= scale,
        or_(f.rating == 0.0, f.rating >= 1e-6),
    )
    return case((accepted, f.rating * 5.0 / scale), else_=None)


def mention_rating(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A mention's copy of its feedback's rating (5-point scale), NULL unless it is a number within 0..5."""
    return case((column.between(0.0, 5.0), column), else_=None)


def utc_day(value: date | datetime | None) -> date | None:
    """The UTC calendar day of a filter bound: a date as it is, a datetime converted to UTC (naive = UTC)."""
    if value is None or not isinstance(value, datetime):
        return value
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.date()


def encode_cursor(feedback_id: int) -> str:
    """Return the opaque cursor that continues after `feedback_id`."""
    return base64.urlsafe_b64encode(f"f:{feedback_id}".encode()).decode().rstrip("=")


_CURSOR = re.compile(r"[A-Za-z0-9_-]{1,32}")  # what encode_cursor makes of any 64-bit id
_CURSOR_ID = re.compile(r"f:([1-9][0-9]{0,18})")
_MAX_ID = 2**63 - 1


def decode_cursor(cursor: str) -> int:
    """Return the feedback id a cursor continues after, or 422 (anything encode_cursor could not have made)."""
    if _CURSOR.fullmatch(cursor):
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        except (ValueError, binascii.Error):  # UnicodeDecodeError is a ValueError
            raw = ""
        found = _CURSOR_ID.fullmatch(raw)
        if found and int(found.group(1)) <= _MAX_ID:
            return int(found.group(1))
    shown = f" '{cursor}'" if _CURSOR.fullmatch(cursor) else ""
    raise AppError(422, "invalid_cursor", f"Invalid cursor{shown}: pass back a next_cursor value")


def list_feedback(
    *, session: Session, workspace_id: int, filters: FeedbackFilters, cursor: str | None, limit: int
) -> tuple[list[Feedback], str | None]:
    """Return one page of the workspace's feedback, newest first, and the cursor of the next page."""
    query = select(Feedback).where(Feedback.workspace_id == workspace_id, *filters.conditions())
    return _newest_first_page(session, query, Feedback.id, cursor, limit)


def _newest_first_page(
    session: Session, query: SelectOfScalar[_Row], id_column: Any, cursor: str | None, limit: int
) -> tuple[list[_Row], str | None]:
    """One page of `query`'s rows by descending id, after the row named by `cursor`, and the next page's cursor."""
    if cursor:
        query = query.where(id_column < decode_cursor(cursor))
    rows = list(session.scalars(query.order_by(id_column.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].id) if more and rows else None


def finite(value: Any) -> Any:
    """Return a stored value with every non-finite number (NaN, ±infinity) as None, in lists and objects too.

    New values are checked on the way in (`app.schemas`); rows stored before may hold them (SQLite's JSON, floats
    on both databases), and JSON has no such numbers.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [finite(item) for item in value]
    return value


def feedback_public(feedback: Feedback) -> FeedbackPublic:
    """Return the API view of a feedback row (non-finite numbers stored before the checks shown as null)."""
    return FeedbackPublic.model_validate(
        finite({**feedback.model_dump(exclude={"meta"}), "metadata": feedback.meta or {}})
    )


def with_analysis(*, session: Session, items: list[FeedbackPublic]) -> list[FeedbackPublic]:
    """Add each listed item's mentions and evidence words (offsets into its text), two queries for the page."""
    ids = [item.id for item in items]
    if not ids:
        return items
    mentions: dict[int, list[MentionPublic]] = {i: [] for i in ids}
    evidence: dict[int, list[EvidencePublic]] = {i: [] for i in ids}
    texts = {item.id: item.text for item in items}
    m, s = MentionRow.__table__.c, SegmentRow.__table__.c
    for row in session.execute(
        select(MentionRow.__table__).where(m.feedback_id.in_(ids)).order_by(m.feedback_id, m.position)
    ):
        mentions[row.feedback_id].append(mention_public(row, texts[row.feedback_id]))
    for feedback_id, items_evidence in session.execute(
        select(s.feedback_id, s.evidence).where(s.feedback_id.in_(ids)).order_by(s.feedback_id, s.position)
    ):
        evidence[feedback_id] += [EvidencePublic(**e) for e in items_evidence]
    return [item.model_copy(update={"mentions": mentions[item.id], "evidence": evidence[item.id]}) for item in items]


def feedback_detail(*, session: Session, feedback: Feedback) -> FeedbackDetail:
    """Return a feedback row with its segments and mentions."""
    segments = session.scalars(
        select(SegmentRow).where(SegmentRow.feedback_id == feedback.id).order_by(SegmentRow.position)
    ).all()
    mentions = session.scalars(
        select(MentionRow).where(MentionRow.feedback_id == feedback.id).order_by(MentionRow.position)
    ).all()
    text = feedback.text
    return FeedbackDetail(
        **feedback_public(feedback).model_dump(exclude={"mentions", "evidence"}),
        segments=[segment_public(s, text) for s in segments],
        mentions=[mention_public(m, text) for m in mentions],
    )


def list_uploads(
    *, session: Session, workspace_id: int, cursor: str | None, limit: int
) -> tuple[list[Upload], str | None]:
    """Return one page of the workspace's uploads, newest first, and the cursor of the next page."""
    return _newest_first_page(
        session, select(Upload).where(Upload.workspace_id == workspace_id), Upload.id, cursor, limit
    )


READING_WEIGHT = 0.1  # reading the file is fast; analysing its rows is what a person waits for


def upload_public(*, session: Session, upload: Upload) -> UploadPublic:
    """Return an upload job's state with its listed row errors and analysis progress.

    progress = 0.1 x the share of the file read + 0.9 x the rows analysed over the rows expected (those stored
    so far, scaled up by the share still to read), so it moves with every analysed batch; 1 once done.
    """
    analysed = session.scalar(
        select(func.count())
        .select_from(Feedback)
        .where(
            Feedback.upload_id == upload.id,
            Feedback.status.in_([FeedbackStatus.analysed.value, FeedbackStatus.failed.value]),
        )
    )
    errors = session.scalars(
        select(UploadRowError).where(UploadRowError.upload_id == upload.id).order_by(UploadRowError.line)
    ).all()
    rows_analysed = int(analysed or 0)
    if upload.status in ("done", "failed"):
        progress = 1.0
    else:
        reading = min(upload.bytes_read / upload.size_bytes, 1.0) if upload.size_bytes else 1.0
        expected = upload.rows_stored / reading if reading else 0.0
        analysing = min(rows_analysed / expected, 1.0) if expected else float(upload.reading_done)
        progress = round(min(READING_WEIGHT * reading + (1 - READING_WEIGHT) * analysing, 0.99), 4)
    data: dict[str, Any] = upload.model_dump()
    return UploadPublic(
        **data,
        rows_analysed=rows_analysed,
        progress=progress,
        errors=[RowErrorPublic(line=e.line, column=e.column, reason=e.reason) for e in errors],
        errors_listed=len(errors),
    )
