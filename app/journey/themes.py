"""Top irritants and delights: themes (stage x touchpoint) ranked by priority, with impact, trend, verbatims."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import case, distinct, func, select, tuple_
from sqlmodel import Session

from app.crud import FeedbackFilters, mention_rating, rating_on_five
from app.journey.figures import filters_echo
from app.journey.queries import _as_date, data_range, feedback_scope, grouped_stats, mention_conditions
from app.journey.stats import SIGNIFICANCE, fisher_p, nps
from app.models import Feedback, MentionRow, SegmentRow, TopicModel
from nlp.taxonomy import Taxonomy

TREND_WEEKS = 8
VERBATIMS = 3
CATCH_ALL_SHARE = 0.25  # a theme holding this share of its polarity's mentions is split by its topics


def _scope_scores(session: Session, workspace_id: int, filters: FeedbackFilters) -> dict[str, float]:
    """Feedback count, rating and NPS sums over every analysed piece of feedback in the filters' scope."""
    f = Feedback.__table__.c
    rating = rating_on_five()  # NULL for a rating stored out of range: every figure stays finite
    total, rated, rating_sum, answers, promoters, detractors = session.execute(
        select(
            func.count(),
            func.count(rating),
            func.sum(rating),
            func.count(f.nps),
            func.sum(case((f.nps >= 9, 1), else_=0)),
            func.sum(case((f.nps <= 6, 1), else_=0)),
        ).where(*feedback_scope(workspace_id, filters))
    ).one()
    return {
        "feedback": total or 0, "rated": rated or 0, "rating_sum": float(rating_sum or 0), "answers": answers or 0,
        "promoters": promoters or 0, "detractors": detractors or 0,
    }  # fmt: skip


def _impact(scope: dict[str, float], theme: dict[str, float]) -> dict[str, float | None]:
    """The score without the theme's feedback minus the score with it (ratings on a 5-point scale)."""
    rating = nps_impact = None
    rest_rated = scope["rated"] - theme["rated"]
    if scope["rated"] and rest_rated:
        with_it = scope["rating_sum"] / scope["rated"]
        rating = round((scope["rating_sum"] - theme["rating_sum"]) / rest_rated - with_it, 4)
    rest_answers = scope["answers"] - theme["answers"]
    if scope["answers"] and rest_answers:
        with_nps = nps(int(scope["promoters"]), int(scope["detractors"]), int(scope["answers"]))
        without = nps(
            int(scope["promoters"] - theme["promoters"]), int(scope["detractors"] - theme["detractors"]),
            int(rest_answers),
        )  # fmt: skip
        nps_impact = round(without - with_nps, 1) if without is not None and with_nps is not None else None
    return {"rating": rating, "nps": nps_impact}


def _trend(weekly: dict[date, int], totals: dict[date, int], end: date) -> dict[str, Any]:
    """The theme's weekly share of the mentions in scope; rising or falling only when the share of the last
    `TREND_WEEKS // 2` weeks differs significantly from the share of the weeks before (Fisher's exact test)."""
    weeks: list[dict[str, Any]] = []
    monday = end - timedelta(days=end.weekday())
    for back in range(TREND_WEEKS - 1, -1, -1):
        start = monday - timedelta(days=7 * back)
        mentions, total = weekly.get(start, 0), totals.get(start, 0)
        weeks.append({
            "week": start.isoformat(), "mentions": mentions, "total_mentions": total,
            "share": round(mentions / total, 4) if total else None,
        })  # fmt: skip
    points = [(i, w["share"]) for i, w in enumerate(weeks) if w["share"] is not None]
    slope = 0.0
    if len(points) > 1:
        mean_x = sum(i for i, _ in points) / len(points)
        mean_y = sum(y for _, y in points) / len(points)
        spread = sum((i - mean_x) ** 2 for i, _ in points)
        slope = sum((i - mean_x) * (y - mean_y) for i, y in points) / spread
    half = TREND_WEEKS // 2
    before, recent = weeks[:half], weeks[half:]
    hits_now, n_now = sum(w["mentions"] for w in recent), sum(w["total_mentions"] for w in recent)
    hits_before, n_before = sum(w["mentions"] for w in before), sum(w["total_mentions"] for w in before)
    p = fisher_p(hits_now, n_now, hits_before, n_before)
    direction = "stable"
    if p is not None and p < SIGNIFICANCE:
        direction = "rising" if hits_now / n_now > hits_before / n_before else "falling"
    return {
        "weeks": weeks, "slope": round(slope, 4), "direction": direction,
        "recent_share": round(hits_now / n_now, 4) if n_now else None,
        "previous_share": round(hits_before / n_before, 4) if n_before else None,
        "p_value": None if p is None else round(p, 4),
    }  # fmt: skip


def _verbatims(
    session: Session, conditions: list[Any], stage: str, touchpoint: str, polarity: str, extra: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    """The theme's most typical mentions, one per piece of feedback, with their evidence spans.

    Typical: the model is most sure the mention belongs to the theme (its confidence) and its tone is clear
    (|sentiment|): ordered by confidence x |sentiment| (confidence 0.5 for analyses older than confidences).
    """
    m = MentionRow.__table__.c
    typical = func.coalesce(m.confidence, 0.5) * func.abs(m.sentiment)
    candidates = session.execute(
        select(m.feedback_id, m.start, m.end, m.sentiment)
        .where(*conditions, m.stage == stage, m.touchpoint == touchpoint, *extra)
        .order_by(typical.desc(), m.feedback_id)
        .limit(50)
    ).all()
    f = Feedback.__table__.c
    texts = dict(session.execute(select(f.id, f.text).where(f.id.in_(sorted({c[0] for c in candidates})))).all())
    chosen: list[tuple[int, int, int, float]] = []
    seen: set[object] = set()
    for feedback_id, start, end, sentiment in candidates:
        said = " ".join(texts[feedback_id][start:end].lower().split())
        if feedback_id not in seen and said not in seen:  # one per feedback, and no repeated wording
            seen.update((feedback_id, said))
            chosen.append((feedback_id, start, end, sentiment))
        if len(chosen) == VERBATIMS:
            break
    if not chosen:
        return []
    ids = [c[0] for c in chosen]
    s = SegmentRow.__table__.c
    evidence: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for feedback_id, seg_start, seg_end, items in session.execute(
        select(s.feedback_id, s.start, s.end, s.evidence).where(s.feedback_id.in_(ids)).order_by(s.position)
    ):
        evidence[feedback_id].append({"start": seg_start, "end": seg_end, "items": items})
    result = []
    for feedback_id, start, end, sentiment in chosen:
        text = texts[feedback_id]
        spans = [
            {"start": e["start"], "end": e["end"], "text": text[e["start"] : e["end"]], "weight": e["weight"]}
            for segment in evidence[feedback_id]
            if segment["start"] >= start and segment["end"] <= end
            for e in segment["items"]
            if (e["weight"] < 0) == (polarity == "irritant")
        ]
        result.append({
            "feedback_id": feedback_id, "text": text, "sentiment": round(sentiment, 4),
            "mention": {"start": start, "end": end, "text": text[start:end]}, "evidence": spans,
        })  # fmt: skip
    return result


def _topic_results(session: Session, workspace_id: int, polarity: str) -> list[dict[str, Any]]:
    """The results of every computed topic slice of one polarity (read once per answer, shared by its themes)."""
    return [
        result or {}
        for result in session.scalars(
            select(TopicModel.result).where(
                TopicModel.workspace_id == workspace_id, TopicModel.slice.like(f"%|polarity={polarity}"),
                TopicModel.result != None,  # noqa: E711
            )
        )
    ]  # fmt: skip


def _sub_themes(
    session: Session, conditions: list[Any], theme: dict[str, Any], polarity: str, results: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A catch-all theme split by the computed topics of its mentions (`results`, from `_topic_results`): each
    topic with its count and verbatims."""
    m = MentionRow.__table__.c
    ids = set(
        session.scalars(select(m.id).where(*conditions, m.stage == theme["stage"], m.touchpoint == theme["touchpoint"]))
    )
    members: dict[int, set[int]] = defaultdict(set)
    labels: dict[int, str] = {}
    for result in results:
        coherent = {t["id"]: t["label"] for t in result.get("topics", []) if not t.get("mixed")}
        labels.update(coherent)
        for mention_id, topic in result.get("assignments", {}).items():
            if topic in coherent and int(mention_id) in ids:  # a "Mixed" topic is never a sub-theme
                members[topic].add(int(mention_id))
    counts = Counter({topic: len(found) for topic, found in members.items()})
    if len(counts) < 2:
        return []
    return [
        {
            "id": topic,
            "label": labels.get(topic, str(topic)),
            "mentions": n,
            "verbatims": _verbatims(
                session, conditions, theme["stage"], theme["touchpoint"], polarity, [m.id.in_(sorted(members[topic]))]
            ),
        }  # fmt: skip
        for topic, n in counts.most_common(5)
    ]


def themes(
    session: Session,
    workspace_id: int,
    taxonomy: Taxonomy,
    filters: FeedbackFilters,
    polarity: str,
    language: str = "en",
    limit: int = 10,
    topics: dict[tuple[str, str], list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """Rank (stage, touchpoint) themes of one polarity by priority = 100 x share of feedback x intensity.

    share: the theme's feedback over all analysed feedback in scope; intensity: the mean |sentiment| of its
    mentions. Impact: the average rating (5-point) and NPS without the theme's feedback minus with it.
    """
    scoped = dataclasses.replace(filters, polarity=[polarity])
    conditions = mention_conditions(workspace_id, scoped)
    m = MentionRow.__table__.c
    rows = session.execute(
        select(m.stage, m.touchpoint, func.count(), func.count(distinct(m.feedback_id)), func.avg(m.sentiment))
        .where(*conditions)
        .group_by(m.stage, m.touchpoint)
    ).all()
    scope = _scope_scores(session, workspace_id, filters)
    rating = mention_rating(m.rating).label("rating")
    pairs = select(m.stage, m.touchpoint, m.feedback_id, rating, m.nps).where(*conditions).distinct().subquery()
    scores = {
        (r[0], r[1]): {
            "rated": r[2],
            "rating_sum": float(r[3] or 0),
            "answers": r[4],
            "promoters": r[5] or 0,
            "detractors": r[6] or 0,
        }  # fmt: skip
        for r in session.execute(
            select(
                pairs.c.stage,
                pairs.c.touchpoint,
                func.count(pairs.c.rating),
                func.sum(pairs.c.rating),
                func.count(pairs.c.nps),
                func.sum(case((pairs.c.nps >= 9, 1), else_=0)),
                func.sum(case((pairs.c.nps <= 6, 1), else_=0)),
            ).group_by(pairs.c.stage, pairs.c.touchpoint)
        )
    }
    stage_names = {s.id: s.name(language) for s in taxonomy.stages}
    tp_names = {t.id: t.name(language) for t in taxonomy.touchpoints}
    ranked = []
    for stage, touchpoint, mentions, feedback, mean in rows:
        intensity = abs(float(mean or 0))
        share = feedback / scope["feedback"] if scope["feedback"] else 0.0
        ranked.append({
            "stage": stage, "stage_label": stage_names.get(stage, stage), "touchpoint": touchpoint,
            "touchpoint_label": tp_names.get(touchpoint, touchpoint), "mentions": mentions, "feedback": feedback,
            "share": round(share, 4), "mean_sentiment": round(float(mean or 0), 4), "intensity": round(intensity, 4),
            "priority": round(100 * share * intensity, 2),
            "impact": _impact(scope, scores.get((stage, touchpoint), dict.fromkeys(scope, 0))),
        })  # fmt: skip
    ranked.sort(key=lambda t: (-t["priority"], -t["mentions"], t["stage"], t["touchpoint"]))
    top = ranked[:limit]
    bounds = data_range(session, workspace_id)
    end = _as_date(filters.date_to) or (bounds[1] if bounds else datetime.now(UTC).date())
    weekly: dict[tuple[str, str], dict[date, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[date, int] = defaultdict(int)
    if top:
        keys = [(t["stage"], t["touchpoint"]) for t in top]
        since = end - timedelta(days=end.weekday()) - timedelta(days=7 * (TREND_WEEKS - 1))
        for stage, touchpoint, day, count in session.execute(
            select(m.stage, m.touchpoint, m.day, func.count())
            .where(*conditions, tuple_(m.stage, m.touchpoint).in_(keys), m.day >= since, m.day <= end)
            .group_by(m.stage, m.touchpoint, m.day)
        ):
            weekly[(stage, touchpoint)][day - timedelta(days=day.weekday())] += count
        window = dataclasses.replace(filters, date_from=since, date_to=end)
        for (day,), stats in grouped_stats(session, workspace_id, window, ("day",)).items():
            totals[day - timedelta(days=day.weekday())] += stats.mentions
    polarity_mentions = sum(t["mentions"] for t in ranked)
    results: list[dict[str, Any]] | None = None
    for theme in top:
        key = (theme["stage"], theme["touchpoint"])
        theme["trend"] = _trend(weekly[key], totals, end)
        theme["verbatims"] = _verbatims(session, conditions, theme["stage"], theme["touchpoint"], polarity)
        if topics is not None:
            theme["topics"] = topics.get(key, [])
        theme["sub_themes"] = None
        if polarity_mentions and theme["mentions"] / polarity_mentions >= CATCH_ALL_SHARE:
            if results is None:
                results = _topic_results(session, workspace_id, polarity)
            theme["sub_themes"] = _sub_themes(session, conditions, theme, polarity, results) or None
    return {
        "polarity": polarity,
        "feedback_in_scope": scope["feedback"],
        "themes": top,
        "filters": filters_echo(filters),
    }
