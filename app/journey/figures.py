"""The journey answers dashboards poll: emotion curve, stage x touchpoint matrix and KPIs (alerts: `alerts`)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, distinct, func, select
from sqlmodel import Session

from app.core.errors import AppError
from app.crud import FeedbackFilters, mention_rating, rating_on_five
from app.journey.queries import _as_date, data_range, feedback_scope, grouped_stats, mention_conditions
from app.journey.stats import MentionStats, change, nps
from app.models import Feedback, MentionRow
from nlp.taxonomy import Taxonomy

GRANULARITIES = ("day", "week", "month")
MAX_PERIODS = 400
STRENGTH_HALF = 5  # mentions at which a matrix cell is drawn at half strength


def filters_echo(filters: FeedbackFilters) -> dict[str, Any]:
    """The filters that were applied, as the client sent them (empty ones left out)."""
    echo: dict[str, Any] = {}
    for key, value in dataclasses.asdict(filters).items():
        if value in (None, (), [], {}, ""):
            continue
        echo[key] = value.isoformat() if isinstance(value, date) else list(value) if isinstance(value, tuple) else value
    return echo


def previous_period(filters: FeedbackFilters) -> tuple[date, date] | None:
    """The period of equal length just before the filters' date range (both ends needed)."""
    start, end = _as_date(filters.date_from), _as_date(filters.date_to)
    if start is None or end is None:
        return None
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)


def _stage_entries(
    taxonomy: Taxonomy, language: str, current: dict[Any, MentionStats], previous: dict[Any, MentionStats] | None
) -> list[dict[str, Any]]:
    entries = []
    for stage in taxonomy.stages:
        stats = current.get((stage.id,), MentionStats())
        entry = {"stage": stage.id, "label": stage.name(language), **stats.summary()}
        before = previous.get((stage.id,), MentionStats()) if previous is not None else None
        entry["change"] = change(stats, before) if before is not None else None
        entries.append(entry)
    return entries


def period_start(day: date, granularity: str) -> date:
    """The first day of the day / ISO week (Monday) / month that `day` falls in."""
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return day


def _next_period(start: date, granularity: str) -> date:
    if granularity == "week":
        return start + timedelta(days=7)
    if granularity == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def curve(
    session: Session,
    workspace_id: int,
    taxonomy: Taxonomy,
    filters: FeedbackFilters,
    language: str = "en",
    granularity: str | None = None,
) -> dict[str, Any]:
    """The emotion curve: per stage in taxonomy order, mentions, mean sentiment with its 95% CI, shares,
    net sentiment, dominant emotions and the change against the previous period (or per period)."""
    if granularity is None:
        current = grouped_stats(session, workspace_id, filters, ("stage",))
        before = previous_period(filters)
        previous = None
        if before is not None:
            shifted = dataclasses.replace(filters, date_from=before[0], date_to=before[1])
            previous = grouped_stats(session, workspace_id, shifted, ("stage",))
        return {
            "stages": _stage_entries(taxonomy, language, current, previous),
            "period": None
            if before is None
            else {
                "from": _as_date(filters.date_from).isoformat(),
                "to": _as_date(filters.date_to).isoformat(),
                "previous_from": before[0].isoformat(),
                "previous_to": before[1].isoformat(),
            },
            "filters": filters_echo(filters),
        }
    if granularity not in GRANULARITIES:
        raise AppError(422, "invalid_granularity", f"granularity must be one of {', '.join(GRANULARITIES)}")
    rows = grouped_stats(session, workspace_id, filters, ("day", "stage"))
    bounds = data_range(session, workspace_id)
    start = _as_date(filters.date_from) or (bounds[0] if bounds else None)
    end = _as_date(filters.date_to) or (bounds[1] if bounds else None)
    periods: list[dict[str, Any]] = []
    if start is not None and end is not None and start <= end:
        buckets: dict[date, dict[Any, MentionStats]] = {}
        for (day, stage), stats in rows.items():
            bucket = buckets.setdefault(period_start(day, granularity), {})
            bucket.setdefault((stage,), MentionStats()).add(stats)
        cursor, previous = period_start(start, granularity), None
        while cursor <= end:
            if len(periods) >= MAX_PERIODS:
                raise AppError(
                    422, "too_many_periods", f"More than {MAX_PERIODS} {granularity}s: narrow the date range"
                )
            current = buckets.get(cursor, {})
            periods.append(
                {"period": cursor.isoformat(), "stages": _stage_entries(taxonomy, language, current, previous)}
            )
            cursor, previous = _next_period(cursor, granularity), current
    return {"granularity": granularity, "periods": periods, "filters": filters_echo(filters)}


def strength(mentions: int) -> float:
    """How much evidence a cell holds, 0..1: n / (n + STRENGTH_HALF) (half strength at STRENGTH_HALF mentions)."""
    return round(mentions / (mentions + STRENGTH_HALF), 4)


def matrix(
    session: Session, workspace_id: int, taxonomy: Taxonomy, filters: FeedbackFilters, language: str = "en"
) -> dict[str, Any]:
    """The stage x touchpoint grid: per cell with mentions, its counts and shares of each polarity, mean sentiment,
    net sentiment and the strength of its evidence (cells without mentions left out)."""
    rows = grouped_stats(session, workspace_id, filters, ("stage", "touchpoint"))
    order = {s.id: i for i, s in enumerate(taxonomy.stages)}
    tp_order = {t.id: i for i, t in enumerate(taxonomy.touchpoints)}
    cells = []
    for (stage, touchpoint), stats in sorted(
        rows.items(), key=lambda kv: (order.get(kv[0][0], 99), tp_order.get(kv[0][1], 99))
    ):
        summary = stats.summary()
        figures = ("mentions", "feedback", "mean_sentiment", "irritant_share", "delight_share", "neutral_share")
        cells.append(
            {"stage": stage, "touchpoint": touchpoint}
            | {k: summary[k] for k in (*figures, "net_sentiment")}
            | {"irritant": stats.irritant, "delight": stats.delight, "neutral": stats.neutral}
            | {"strength": strength(stats.mentions)}
        )
    return {
        "stages": [{"stage": s.id, "label": s.name(language)} for s in taxonomy.stages],
        "touchpoints": [{"touchpoint": t.id, "label": t.name(language)} for t in taxonomy.touchpoints],
        "cells": cells,
        "filters": filters_echo(filters),
    }


def _kpi(
    promoters: int, detractors: int, answers: int, satisfied: int, rated: int, rating_sum: float
) -> dict[str, Any]:
    return {
        "nps": nps(promoters, detractors, answers),
        "nps_answers": answers,
        "promoters": promoters,
        "detractors": detractors,
        "csat": round(100 * satisfied / rated, 1) if rated else None,
        "rated": rated,
        "mean_rating": round(rating_sum / rated, 3) if rated else None,
    }


def kpis(
    session: Session, workspace_id: int, taxonomy: Taxonomy, filters: FeedbackFilters, language: str = "en"
) -> dict[str, Any]:
    """NPS (% promoters 9-10 minus % detractors 0-6) and CSAT (% of ratings of 4 or 5 out of 5), overall
    and per stage (over the feedback with a mention at that stage)."""
    f = Feedback.__table__.c
    rating = rating_on_five()  # NULL for a rating stored out of range: every figure stays finite
    overall = session.execute(
        select(
            func.count(),
            func.sum(case((f.nps >= 9, 1), else_=0)),
            func.sum(case((f.nps <= 6, 1), else_=0)),
            func.count(f.nps),
            func.sum(case((rating >= 4, 1), else_=0)),
            func.count(rating),
            func.sum(rating),
        ).where(*feedback_scope(workspace_id, filters))
    ).one()
    m = MentionRow.__table__.c
    pairs = (
        select(m.stage, m.feedback_id, mention_rating(m.rating).label("rating"), m.nps)
        .where(*mention_conditions(workspace_id, filters))
        .distinct()
        .subquery()
    )
    per_stage = {
        row[0]: row[1:]
        for row in session.execute(
            select(
                pairs.c.stage,
                func.sum(case((pairs.c.nps >= 9, 1), else_=0)),
                func.sum(case((pairs.c.nps <= 6, 1), else_=0)),
                func.count(pairs.c.nps),
                func.sum(case((pairs.c.rating >= 4, 1), else_=0)),
                func.count(pairs.c.rating),
                func.sum(pairs.c.rating),
                func.count(distinct(pairs.c.feedback_id)),
            ).group_by(pairs.c.stage)
        )
    }
    stages = []
    for stage in taxonomy.stages:
        values = per_stage.get(stage.id)
        counts = [int(v or 0) for v in values[:5]] if values else [0] * 5
        figures = _kpi(counts[0], counts[1], counts[2], counts[3], counts[4], float(values[5] or 0) if values else 0.0)
        stages.append({"stage": stage.id, "label": stage.name(language), "feedback": int(values[6]) if values else 0}
                      | figures)  # fmt: skip
    total, promoters, detractors, answers, satisfied, rated, rating_sum = overall
    return {
        "overall": {"feedback": int(total or 0)}
        | _kpi(
            int(promoters or 0),
            int(detractors or 0),
            int(answers or 0),
            int(satisfied or 0),
            int(rated or 0),
            float(rating_sum or 0),
        ),  # fmt: skip
        "stages": stages,
        "filters": filters_echo(filters),
    }
