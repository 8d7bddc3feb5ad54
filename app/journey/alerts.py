"""Alerts a manager can act on: stages and touchpoints whose week departs from a baseline with enough history.

This week is the 7 days ending `as_of`; the baseline is the `weeks` weeks before it, counting only whole weeks
from the workspace's first day with data onwards (empty weeks before the data begins are not history).
No alert is raised until the baseline holds `MIN_WEEKS_WITH_DATA` weeks with mentions and
`MIN_BASELINE_MENTIONS` mentions: the answer says so (`status: insufficient_history`) instead.

Each stage and touchpoint is tested twice: its irritant share against the baseline's pooled share (Fisher's
exact test) and its mention volume against the baseline's weekly counts (Poisson, or negative binomial when
the weeks vary more than Poisson allows). Once topics are computed (`app.journey.topics`), each coherent topic
of the irritant and delight slices is tested too: its share of the slice's modelled mentions this week against
its baseline share (Fisher's exact test); a rise is an emerging topic. The whole family of tests is corrected
with Benjamini-Hochberg; an alert needs q < alpha and a material effect (`MIN_SHARE_CHANGE`, `MIN_VOLUME_RATIO`;
a topic's share must rise). Alerts are ranked by score = relative effect (|log2 of value over baseline|) x
evidence (the z of q) and capped at `limit`.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from app.crud import FeedbackFilters
from app.journey.figures import filters_echo
from app.journey.queries import _as_date, data_range, grouped_stats, mention_conditions
from app.journey.stats import SIGNIFICANCE, MentionStats, benjamini_hochberg, count_p, fisher_p, z_of
from app.journey.topics import ComputedTopics, computed_topics
from nlp.taxonomy import Taxonomy

MIN_WEEKS_WITH_DATA = 4  # baseline weeks with at least one mention in scope before any alert
MIN_BASELINE_MENTIONS = 30  # mentions in scope over those baseline weeks before any alert
MIN_SHARE_CHANGE = 0.05  # an irritant share must move by 5 points or more
MIN_VOLUME_RATIO = 1.5  # a volume must be 1.5 x its baseline mean (or 1 / 1.5) or more
ALERT_LIMIT = 5
TOPIC_VERBATIMS = 3  # feedback ids given with a topic alert
_MESSAGES = {
    "en": "Not enough history yet (alerts start after {weeks} weeks of data and {mentions} mentions; "
    "so far {have_weeks} weeks and {have_mentions} mentions).",
    "fr": "Pas encore assez d'historique (les alertes commencent après {weeks} semaines de données et "
    "{mentions} mentions ; pour l'instant {have_weeks} semaines et {have_mentions} mentions).",
}


@dataclasses.dataclass(frozen=True)
class _Test:
    """One test of the family, before the multiple-testing correction."""

    dimension: str
    id: str
    metric: str
    value: float
    baseline: float
    spread: float
    p_value: float
    test: str
    mentions: int
    baseline_mentions: int
    label: str | None = None  # topics: their label (stages and touchpoints are named by the taxonomy)
    slice: str | None = None
    verbatim_ids: tuple[int, ...] = ()

    @property
    def effect(self) -> float:
        """|log2(value / baseline)|, a relative change comparable between shares and volumes."""
        floor = 0.5 if self.metric == "volume" else 0.01
        return abs(math.log2(max(self.value, floor) / max(self.baseline, floor)))

    @property
    def material(self) -> bool:
        if self.metric == "topic_share":  # a topic alert is an emerging topic: its share rose
            return self.value - self.baseline >= MIN_SHARE_CHANGE
        if self.metric == "irritant_share":
            return abs(self.value - self.baseline) >= MIN_SHARE_CHANGE
        return self.effect >= math.log2(MIN_VOLUME_RATIO)


def _sig(value: float) -> float:
    return float(f"{value:.4g}")


def _weekly(rows: dict[Any, MentionStats], as_of: date, weeks: int) -> dict[str, list[MentionStats]]:
    """Per dimension value: [this week, baseline week 1, ..., baseline week `weeks`]."""
    series: dict[str, list[MentionStats]] = {}
    for (day, value), stats in rows.items():
        index = (as_of - day).days // 7
        if 0 <= index <= weeks:
            series.setdefault(value, [MentionStats() for _ in range(weeks + 1)])[index].add(stats)
    return series


def _tests(dimension: str, value: str, weekly: list[MentionStats], min_mentions: int) -> list[_Test]:
    now, history = weekly[0], weekly[1:]
    base = MentionStats()
    for week in history:
        base.add(week)
    counts = [w.mentions for w in history]
    found = []
    baseline_mean = statistics.fmean(counts)
    if max(now.mentions, baseline_mean) >= min_mentions:
        p, model = count_p(now.mentions, counts)
        spread = statistics.stdev(counts) if len(counts) > 1 else 0.0
        found.append(
            _Test(dimension, value, "volume", float(now.mentions), baseline_mean, spread, p, model,
                  now.mentions, base.mentions)
        )  # fmt: skip
    if now.mentions >= min_mentions and base.mentions >= min_mentions:
        pooled = base.irritant / base.mentions
        exact = fisher_p(now.irritant, now.mentions, base.irritant, base.mentions)
        assert exact is not None
        spread = math.sqrt(pooled * (1 - pooled) / now.mentions)
        share = now.irritant / now.mentions
        found.append(
            _Test(dimension, value, "irritant_share", share, pooled, spread, exact, "fisher_exact", now.mentions,
                  base.mentions)
        )  # fmt: skip
    return found


def _topic_tests(computed: ComputedTopics, as_of: date, eligible: list[int], min_mentions: int) -> list[_Test]:
    """Each coherent topic's share of the slice's modelled mentions this week against the baseline weeks'."""
    now, base = Counter[int](), Counter[int]()
    this_week: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for mention in computed.mentions:
        week = (as_of - mention.day).days // 7
        if week == 0:
            now[mention.topic] += 1
            this_week[mention.topic].append((-abs(mention.sentiment), mention.feedback_id))
        elif week in eligible:
            base[mention.topic] += 1
    n_now, n_base = sum(now.values()), sum(base.values())
    if n_now < min_mentions or n_base < min_mentions:
        return []
    found = []
    for topic, label in sorted(computed.labels.items()):
        exact = fisher_p(now[topic], n_now, base[topic], n_base)
        assert exact is not None
        pooled, share = base[topic] / n_base, now[topic] / n_now
        ids = list(dict.fromkeys(feedback_id for _, feedback_id in sorted(this_week[topic])))[:TOPIC_VERBATIMS]
        found.append(
            _Test("topic", str(topic), "topic_share", share, pooled, math.sqrt(pooled * (1 - pooled) / n_now),
                  exact, "fisher_exact", n_now, n_base, label, computed.slice, tuple(ids))
        )  # fmt: skip
    return found


def alerts(
    session: Session,
    workspace_id: int,
    taxonomy: Taxonomy,
    filters: FeedbackFilters,
    *,
    language: str = "en",
    as_of: date | None = None,
    alpha: float = SIGNIFICANCE,
    min_mentions: int = 5,
    weeks: int = 8,
    limit: int = ALERT_LIMIT,
) -> dict[str, Any]:
    """Stages and touchpoints whose irritant share or volume this week departs from a baseline with history, and
    topics whose share rose (emerging topics)."""
    bounds = data_range(session, workspace_id)
    if as_of is None:
        end = _as_date(filters.date_to)
        as_of = min(end, bounds[1]) if end and bounds else end or (bounds[1] if bounds else None)
    if as_of is None or bounds is None:
        return {"status": "no_data", "as_of": None, "alerts": [], "total": 0, "filters": filters_echo(filters)}
    first_day = bounds[0]
    eligible = [k for k in range(1, weeks + 1) if as_of - timedelta(days=7 * k + 6) >= first_day]
    start = as_of - timedelta(days=7 * (weeks + 1) - 1)
    window = dataclasses.replace(filters, date_from=start, date_to=as_of)
    overall = _weekly({(day, "*"): s for (day,), s in grouped_stats(session, workspace_id, window, ("day",)).items()},
                      as_of, weeks).get("*", [MentionStats()] * (weeks + 1))  # fmt: skip
    weeks_with_data = sum(1 for k in eligible if overall[k].mentions)
    baseline_mentions = sum(overall[k].mentions for k in eligible)
    answer: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "week": {"from": (as_of - timedelta(days=6)).isoformat(), "to": as_of.isoformat()},
        "baseline": {
            "from": (as_of - timedelta(days=7 * max(eligible, default=0) + 6)).isoformat()
            if eligible
            else (as_of - timedelta(days=6)).isoformat(),
            "to": (as_of - timedelta(days=7)).isoformat(),
            "weeks": len(eligible),
        },
        "weeks_with_data": weeks_with_data,
        "weeks_needed": MIN_WEEKS_WITH_DATA,
        "baseline_mentions": baseline_mentions,
        "mentions_needed": MIN_BASELINE_MENTIONS,
        "alpha": alpha,
        "min_mentions": min_mentions,
    }
    if weeks_with_data < MIN_WEEKS_WITH_DATA or baseline_mentions < MIN_BASELINE_MENTIONS:
        message = _MESSAGES.get(language, _MESSAGES["en"]).format(
            weeks=MIN_WEEKS_WITH_DATA, mentions=MIN_BASELINE_MENTIONS, have_weeks=weeks_with_data,
            have_mentions=baseline_mentions,
        )  # fmt: skip
        return {"status": "insufficient_history", "message": message} | answer | {
            "alerts": [], "total": 0, "filters": filters_echo(filters)
        }  # fmt: skip
    family: list[_Test] = []
    for dimension in ("stage", "touchpoint"):
        rows = grouped_stats(session, workspace_id, window, ("day", dimension))
        for value, weekly in _weekly(rows, as_of, weeks).items():
            family += _tests(dimension, value, [weekly[0]] + [weekly[k] for k in eligible], min_mentions)
    for computed in computed_topics(session, workspace_id, mention_conditions(workspace_id, window)):
        family += _topic_tests(computed, as_of, eligible, min_mentions)
    q_values = benjamini_hochberg([t.p_value for t in family])
    labels = {s.id: s.name(language) for s in taxonomy.stages} | {t.id: t.name(language) for t in taxonomy.touchpoints}
    found = []
    for test, q in zip(family, q_values, strict=True):
        if q >= alpha or not test.material:
            continue
        sign = 1 if test.value > test.baseline else -1
        found.append({
            "dimension": test.dimension, "id": test.id, "label": test.label or labels.get(test.id, test.id),
            "metric": test.metric, "slice": test.slice, "verbatim_ids": list(test.verbatim_ids),
            "value": round(test.value, 4), "baseline_mean": round(test.baseline, 4),
            "baseline_sd": round(test.spread, 4), "delta": round(test.value - test.baseline, 4),
            "z": round(sign * z_of(test.p_value), 2), "p_value": _sig(test.p_value), "q_value": _sig(q),
            "test": test.test, "score": round(test.effect * z_of(q), 3), "direction": "up" if sign > 0 else "down",
            "mentions": test.mentions, "baseline_mentions": test.baseline_mentions,
        })  # fmt: skip
    found.sort(key=lambda a: (-a["score"], a["dimension"], a["id"], a["metric"]))
    return {"status": "ok", "message": None} | answer | {
        "alerts": found[:limit], "total": len(found), "filters": filters_echo(filters)
    }  # fmt: skip
