"""The journey answers dashboards poll: emotion curve, stage x touchpoint matrix, KPIs and alerts."""

from __future__ import annotations

import dataclasses
import math
import statistics
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, distinct, func, select
from sqlmodel import Session

from app.core.errors import AppError
from app.crud import FeedbackFilters
from app.journey.queries import _as_date, data_range, feedback_scope, grouped_stats, mention_conditions
from app.journey.stats import MentionStats, change, nps
from app.models import Feedback, MentionRow
from nlp.taxonomy import Taxonomy

GRANULARITIES = ("day", "week", "month")
MAX_PERIODS = 400


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


def matrix(
    session: Session, workspace_id: int, taxonomy: Taxonomy, filters: FeedbackFilters, language: str = "en"
) -> dict[str, Any]:
    """The stage x touchpoint grid: mentions and sentiment per cell (cells without mentions left out)."""
    rows = grouped_stats(session, workspace_id, filters, ("stage", "touchpoint"))
    order = {s.id: i for i, s in enumerate(taxonomy.stages)}
    tp_order = {t.id: i for i, t in enumerate(taxonomy.touchpoints)}
    cells = []
    for (stage, touchpoint), stats in sorted(
        rows.items(), key=lambda kv: (order.get(kv[0][0], 99), tp_order.get(kv[0][1], 99))
    ):
        summary = stats.summary()
        cells.append(
            {"stage": stage, "touchpoint": touchpoint}
            | {
                k: summary[k]
                for k in ("mentions", "feedback", "mean_sentiment", "irritant_share", "delight_share", "net_sentiment")
            }  # fmt: skip
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
    rating = f.rating * 5.0 / func.coalesce(f.rating_scale, 5.0)
    overall = session.execute(
        select(
            func.count(),
            func.sum(case((f.nps >= 9, 1), else_=0)),
            func.sum(case((f.nps <= 6, 1), else_=0)),
            func.count(f.nps),
            func.sum(case((rating >= 4, 1), else_=0)),
            func.count(f.rating),
            func.sum(rating),
        ).where(*feedback_scope(workspace_id, filters))
    ).one()
    m = MentionRow.__table__.c
    pairs = (
        select(m.stage, m.feedback_id, m.rating, m.nps)
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


def _weekly(rows: dict[Any, MentionStats], as_of: date, weeks: int) -> dict[str, list[MentionStats]]:
    """Per dimension value: weeks[0] is the week ending `as_of`, then the `weeks` weeks before it."""
    series: dict[str, list[MentionStats]] = {}
    for (day, value), stats in rows.items():
        index = (as_of - day).days // 7
        if 0 <= index <= weeks:
            series.setdefault(value, [MentionStats() for _ in range(weeks + 1)])[index].add(stats)
    return series


def _z(value: float, history: list[float], floor: float) -> tuple[float, float, float]:
    mean = statistics.fmean(history) if history else 0.0
    sd = statistics.stdev(history) if len(history) > 1 else 0.0
    return mean, sd, (value - mean) / max(sd, floor)


def alerts(
    session: Session,
    workspace_id: int,
    taxonomy: Taxonomy,
    filters: FeedbackFilters,
    *,
    language: str = "en",
    as_of: date | None = None,
    threshold: float = 2.0,
    min_mentions: int = 5,
    weeks: int = 8,
) -> dict[str, Any]:
    """Stages and touchpoints whose irritant share or volume this week departs from the trailing baseline.

    This week is the 7 days ending `as_of` (default: the last day with data); the baseline is the `weeks`
    weeks before. A departure is |z| >= threshold, z measured against the baseline's weekly spread (floored
    by the binomial / Poisson spread, so that a flat baseline does not make every wiggle an alert).
    """
    if as_of is None:
        bounds = data_range(session, workspace_id)
        end = _as_date(filters.date_to)
        as_of = min(end, bounds[1]) if end and bounds else end or (bounds[1] if bounds else None)
    if as_of is None:
        return {"as_of": None, "alerts": [], "filters": filters_echo(filters)}
    start = as_of - timedelta(days=7 * (weeks + 1) - 1)
    window = dataclasses.replace(filters, date_from=start, date_to=as_of)
    labels = {s.id: s.name(language) for s in taxonomy.stages} | {t.id: t.name(language) for t in taxonomy.touchpoints}
    found = []
    for dimension in ("stage", "touchpoint"):
        for value, weekly in _weekly(
            grouped_stats(session, workspace_id, window, ("day", dimension)), as_of, weeks
        ).items():
            now, history = weekly[0], weekly[1:]
            if now.mentions < min_mentions:
                continue
            volumes = [float(w.mentions) for w in history]
            mean, sd, z = _z(float(now.mentions), volumes, math.sqrt(max(statistics.fmean(volumes), 1.0)))
            candidates = [("volume", float(now.mentions), mean, sd, z)]
            base_mentions = sum(w.mentions for w in history)
            if base_mentions:
                pooled = sum(w.irritant for w in history) / base_mentions
                shares = [w.irritant / w.mentions for w in history if w.mentions]
                floor = math.sqrt(max(pooled * (1 - pooled), 0.01) / now.mentions)
                share_now = now.irritant / now.mentions
                _, share_sd, share_z = _z(share_now, shares, floor)
                candidates.append(("irritant_share", share_now, pooled, share_sd, share_z))
            for metric, current, base, spread, score in candidates:
                if abs(score) >= threshold:
                    found.append({
                        "dimension": dimension, "id": value, "label": labels.get(value, value), "metric": metric,
                        "value": round(current, 4), "baseline_mean": round(base, 4), "baseline_sd": round(spread, 4),
                        "z": round(score, 2), "direction": "up" if score > 0 else "down",
                        "mentions": now.mentions, "baseline_mentions": base_mentions,
                    })  # fmt: skip
    found.sort(key=lambda a: -abs(a["z"]))
    return {
        "as_of": as_of.isoformat(),
        "week": {"from": (as_of - timedelta(days=6)).isoformat(), "to": as_of.isoformat()},
        "baseline": {"from": start.isoformat(), "to": (as_of - timedelta(days=7)).isoformat(), "weeks": weeks},
        "threshold": threshold,
        "min_mentions": min_mentions,
        "alerts": found,
        "filters": filters_echo(filters),
    }
