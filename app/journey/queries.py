"""Analytics queries: mention statistics from the rollup when the filters allow it, from the mentions otherwise."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, distinct, exists, func, select
from sqlmodel import Session

from app.crud import FeedbackFilters, metadata_text, utc_day
from app.journey.stats import MentionStats
from app.models import ALL, MEASURES, Feedback, FeedbackStatus, JourneyRollup, MentionRow

GROUPS = ("day", "stage", "touchpoint")


def _as_date(value: date | datetime | None) -> date | None:
    """A filter bound as a UTC day (FeedbackFilters already holds UTC days; datetimes are converted the same way)."""
    return utc_day(value)


def uses_rollup(filters: FeedbackFilters) -> bool:
    """Tell whether the rollup can answer: only date, stage and touchpoint filters are in it."""
    return not (
        filters.kind or filters.source or filters.channel or filters.segment or filters.language
        or filters.rating_min is not None or filters.rating_max is not None or filters.metadata or filters.q
        or filters.polarity or filters.emotion
    )  # fmt: skip


def mention_conditions(workspace_id: int, filters: FeedbackFilters) -> list[ColumnElement[bool]]:
    """Filters as conditions on the mention table (feedback attributes are copied onto it)."""
    m = MentionRow.__table__.c
    conditions: list[ColumnElement[bool]] = [m.workspace_id == workspace_id]
    if (start := _as_date(filters.date_from)) is not None:
        conditions.append(m.day >= start)
    if (end := _as_date(filters.date_to)) is not None:
        conditions.append(m.day <= end)
    for column, values in (
        (m.kind, filters.kind), (m.source, filters.source), (m.channel, filters.channel),
        (m.segment, filters.segment), (m.language, filters.language), (m.stage, filters.stage),
        (m.touchpoint, filters.touchpoint), (m.polarity, filters.polarity), (m.emotion, filters.emotion),
    ):  # fmt: skip
        if values:
            conditions.append(column.in_(list(values)))
    if filters.rating_min is not None:
        conditions.append(m.rating >= filters.rating_min)
    if filters.rating_max is not None:
        conditions.append(m.rating <= filters.rating_max)
    if filters.metadata or filters.q:
        feedback = Feedback.__table__.c
        inner = [feedback.id == m.feedback_id]
        for key, value in filters.metadata.items():
            inner.append(metadata_text(feedback.metadata, key) == value)
        if filters.q:
            inner.append(func.lower(feedback.text).contains(filters.q.lower()))
        conditions.append(exists().where(and_(*inner)))
    return conditions


def _measures(source: Any, rollup: bool) -> list[Any]:
    """The MEASURES as labelled columns: summed from the rollup, or computed from the mentions."""
    if rollup:
        return [func.sum(source.c[name]).label(name) for name in MEASURES]
    c = source.c
    computed = {
        "mentions": func.count(),
        "feedback": func.count(distinct(c.feedback_id)),
        "sentiment_sum": func.sum(c.sentiment),
        "sentiment_sq": func.sum(c.sentiment * c.sentiment),
        **{p: func.sum(case((c.polarity == p, 1), else_=0)) for p in ("irritant", "delight", "neutral")},
    }
    return [computed[name].label(name) for name in MEASURES]


def grouped_stats(
    session: Session, workspace_id: int, filters: FeedbackFilters, by: Sequence[str]
) -> dict[tuple[Any, ...], MentionStats]:
    """Return MentionStats per group (`by` among day, stage, touchpoint), emotions included."""
    assert set(by) <= set(GROUPS), by
    if uses_rollup(filters):
        table = JourneyRollup.__table__
        conditions: list[ColumnElement[bool]] = [table.c.workspace_id == workspace_id]
        if (start := _as_date(filters.date_from)) is not None:
            conditions.append(table.c.day >= start)
        if (end := _as_date(filters.date_to)) is not None:
            conditions.append(table.c.day <= end)
        if filters.stage:
            conditions.append(table.c.stage.in_(list(filters.stage)))
        if filters.touchpoint:
            conditions.append(table.c.touchpoint.in_(list(filters.touchpoint)))
        elif "touchpoint" in by:
            conditions.append(table.c.touchpoint != ALL)
        else:
            conditions.append(table.c.touchpoint == ALL)
        groups = [table.c[g] for g in by]
        totals = select(*groups, *_measures(table, True)).where(*conditions, table.c.emotion == ALL)
        emotions = select(*groups, table.c.emotion, func.sum(table.c.mentions)).where(
            *conditions, table.c.emotion != ALL
        )
    else:
        table = MentionRow.__table__
        conditions = mention_conditions(workspace_id, filters)
        groups = [table.c[g] for g in by]
        totals = select(*groups, *_measures(table, False)).where(*conditions)
        emotions = select(*groups, table.c.emotion, func.count()).where(*conditions)
    result: dict[tuple[Any, ...], MentionStats] = defaultdict(MentionStats)
    for row in session.execute(_grouped(totals, groups)):
        result[tuple(row[: len(by)])] = MentionStats.from_sums(row._mapping)
    for row in session.execute(_grouped(emotions, [*groups, table.c.emotion])):
        key = tuple(row[: len(by)])
        if key in result:
            result[key].emotions[row[len(by)]] += int(row[len(by) + 1] or 0)
    return dict(result)


def _grouped(statement: Select[Any], groups: Sequence[Any]) -> Select[Any]:
    return statement.group_by(*groups) if groups else statement


def data_range(session: Session, workspace_id: int) -> tuple[date, date] | None:
    """Return the first and last day with mentions in the workspace."""
    table = JourneyRollup.__table__
    first, last = session.execute(
        select(func.min(table.c.day), func.max(table.c.day)).where(table.c.workspace_id == workspace_id)
    ).one()
    return (first, last) if first is not None else None


def feedback_scope(workspace_id: int, filters: FeedbackFilters) -> list[ColumnElement[bool]]:
    """Conditions selecting the analysed feedback the filters describe (mention-level filters via EXISTS)."""
    f = Feedback.__table__.c
    return [f.workspace_id == workspace_id, f.status == FeedbackStatus.analysed.value, *filters.conditions()]
