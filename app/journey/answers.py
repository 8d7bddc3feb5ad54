"""The JSON answers of the routes that build their bodies by hand, as pydantic models for the OpenAPI document.

The analytics routes serve cached bytes (app.journey.cache), so these models describe the answers without being
used to produce them; tests/app/test_openapi.py validates real answers against them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import EvidencePublic, SegmentPublic

Filters = dict[str, Any]
FILTERS = Field(description="The filters that were applied, as sent (empty ones left out).")
_EMOTIONS = [{"emotion": "frustration", "share": 0.4}, {"emotion": "anger", "share": 0.2}]


def _example(example: dict[str, Any]) -> ConfigDict:
    return ConfigDict(populate_by_name=True, json_schema_extra={"example": example})


class DateRange(BaseModel):
    """A range of days, both ends included."""

    model_config = ConfigDict(populate_by_name=True)
    from_: date = Field(alias="from", description="First day.")
    to: date = Field(description="Last day.")


# --- GET /v1/journey/curve and /v1/journey/matrix --------------------------------------------------------------


class EmotionShare(BaseModel):
    """One of the (at most 3) dominant emotions of a set of mentions."""

    emotion: str
    share: float = Field(description="Share of the mentions with this emotion, 0..1.")


class Figures(BaseModel):
    """Mentions and sentiment of a set of mentions (shares are 0..1, null without mentions)."""

    mentions: int = Field(description="Journey mentions.")
    feedback: int = Field(description="Pieces of feedback with at least one of these mentions.")
    mean_sentiment: float | None = Field(description="Mean sentiment, -1..1.")
    irritant_share: float | None
    delight_share: float | None
    net_sentiment: float | None = Field(description="100 x (delight share - irritant share), -100..100.")


class StageChange(BaseModel):
    """How a stage moved against the previous period: every `_delta` is now minus before, in the unit named."""

    previous_mentions: int = Field(description="Mentions in the previous period.")
    previous_mean_sentiment: float | None = Field(description="Mean sentiment in the previous period, -1..1.")
    mentions_delta: int = Field(description="Mentions now minus mentions before (a count).")
    mean_sentiment_delta: float | None = Field(description="Mean sentiment now minus before, on the -1..1 scale.")
    irritant_share_delta_pts: float | None = Field(
        description="Irritant share now minus before, in percentage points (100 x the difference of the shares)."
    )
    delight_share_delta_pts: float | None = Field(
        description="Delight share now minus before, in percentage points (100 x the difference of the shares)."
    )
    net_sentiment_delta: float | None = Field(
        description="Net sentiment now minus before, in points of the -100..100 net sentiment scale."
    )
    p_value: float | None = Field(description="Welch t-test of the change in mean sentiment.")
    irritant_share_p_value: float | None = Field(description="Two-proportion z-test of the irritant share.")
    significant: bool = Field(description="p_value < 0.05.")


class CurveStage(Figures):
    """One stage of the emotion curve."""

    stage: str = Field(description="Stage id.")
    label: str = Field(description="Stage name in the requested language.")
    ci_low: float | None = Field(description="Low end of the 95% confidence interval of the mean sentiment.")
    ci_high: float | None = Field(description="High end of the 95% confidence interval of the mean sentiment.")
    neutral_share: float | None
    emotions: list[EmotionShare]
    change: StageChange | None = Field(description="Against the previous period (date_from and date_to needed).")


class ComparedPeriods(BaseModel):
    """The requested period and the one of equal length before it."""

    model_config = ConfigDict(populate_by_name=True)
    from_: date = Field(alias="from")
    to: date
    previous_from: date
    previous_to: date


_STAGE = {
    "stage": "support", "label": "Support", "mentions": 42, "feedback": 37, "mean_sentiment": -0.4213,
    "ci_low": -0.5231, "ci_high": -0.3195, "irritant_share": 0.6667, "delight_share": 0.1905,
    "neutral_share": 0.1428, "net_sentiment": -47.6, "emotions": _EMOTIONS,
}  # fmt: skip
_CHANGE = {
    "previous_mentions": 30, "previous_mean_sentiment": -0.2011, "mentions_delta": 12,
    "mean_sentiment_delta": -0.2202, "irritant_share_delta_pts": 16.67, "delight_share_delta_pts": -4.28,
    "net_sentiment_delta": -20.9, "p_value": 0.0213, "irritant_share_p_value": 0.1544, "significant": True,
}  # fmt: skip


class CurveAnswer(BaseModel):
    """The emotion curve over the whole period: one entry per stage, in taxonomy order."""

    model_config = _example({
        "stages": [_STAGE | {"change": _CHANGE}],
        "period": {"from": "2026-03-11", "to": "2026-03-20", "previous_from": "2026-03-01",
                   "previous_to": "2026-03-10"},
        "filters": {"date_from": "2026-03-11", "date_to": "2026-03-20"},
    })  # fmt: skip
    stages: list[CurveStage]
    period: ComparedPeriods | None = Field(description="The compared periods (null without date_from and date_to).")
    filters: Filters = FILTERS


class CurvePeriod(BaseModel):
    """One period of the time series: the curve over its mentions (change: against the period before)."""

    period: date = Field(description="First day of the day, ISO week (Monday) or month.")
    stages: list[CurveStage]


class CurveSeriesAnswer(BaseModel):
    """The emotion curve per period (with `granularity`)."""

    model_config = _example({
        "granularity": "week",
        "periods": [{"period": "2026-03-02", "stages": [_STAGE | {"change": _CHANGE}]}],
        "filters": {},
    })  # fmt: skip
    granularity: Literal["day", "week", "month"]
    periods: list[CurvePeriod]
    filters: Filters = FILTERS


class StageLabel(BaseModel):
    stage: str
    label: str


class TouchpointLabel(BaseModel):
    touchpoint: str
    label: str


class MatrixCell(Figures):
    """A stage x touchpoint cell that has mentions: what it holds (both polarities) and how much evidence."""

    stage: str
    touchpoint: str
    neutral_share: float | None
    irritant: int = Field(description="Irritant mentions in the cell.")
    delight: int = Field(description="Delight mentions in the cell.")
    neutral: int = Field(description="Neutral mentions in the cell.")
    strength: float = Field(
        description="Evidence behind the cell, 0..1: mentions / (mentions + 5), half strength at 5 mentions "
        "(draw a one-mention cell faint)."
    )


class MatrixAnswer(BaseModel):
    """The stage x touchpoint heat map: the axes in taxonomy order and the cells with mentions."""

    model_config = _example({
        "stages": [{"stage": "support", "label": "Support"}],
        "touchpoints": [{"touchpoint": "phone", "label": "Phone"}],
        "cells": [{"stage": "support", "touchpoint": "phone", "mentions": 18, "feedback": 17, "mean_sentiment": -0.61,
                   "irritant_share": 0.8333, "delight_share": 0.0556, "neutral_share": 0.1111, "net_sentiment": -77.8,
                   "irritant": 15, "delight": 1, "neutral": 2, "strength": 0.7826}],
        "filters": {"kind": "review"},
    })  # fmt: skip
    stages: list[StageLabel]
    touchpoints: list[TouchpointLabel]
    cells: list[MatrixCell]
    filters: Filters = FILTERS


# --- GET /v1/kpis and /v1/alerts --------------------------------------------------------------------------------


class KpiFigures(BaseModel):
    """NPS and CSAT over a set of feedback."""

    feedback: int = Field(description="Pieces of feedback counted.")
    nps: float | None = Field(description="% of 9-10 answers minus % of 0-6 answers, -100..100.")
    nps_answers: int
    promoters: int
    detractors: int
    csat: float | None = Field(description="% of ratings of 4 or 5 out of 5.")
    rated: int = Field(description="Pieces of feedback with a rating.")
    mean_rating: float | None = Field(description="Mean rating on a 5-point scale.")


class StageKpis(KpiFigures):
    """The KPIs over the feedback with a mention at this stage."""

    stage: str
    label: str


_KPI = {"feedback": 120, "nps": 12.5, "nps_answers": 96, "promoters": 38, "detractors": 26, "csat": 61.2,
        "rated": 103, "mean_rating": 3.612}  # fmt: skip


class KpisAnswer(BaseModel):
    """NPS and CSAT, overall and per stage in taxonomy order."""

    model_config = _example({
        "overall": _KPI,
        "stages": [{"stage": "support", "label": "Support"} | _KPI | {"feedback": 37, "nps": -21.4}],
        "filters": {},
    })  # fmt: skip
    overall: KpiFigures
    stages: list[StageKpis]
    filters: Filters = FILTERS


class Alert(BaseModel):
    """A stage or touchpoint whose volume or irritant share this week departs from its baseline, or a topic whose
    share of its slice's mentions rose (an emerging topic)."""

    dimension: Literal["stage", "touchpoint", "topic"]
    id: str = Field(description="Stage or touchpoint id, or topic id (as in /v1/topics for `slice`).")
    label: str
    metric: Literal["volume", "irritant_share", "topic_share"]
    value: float = Field(description="This week's value: mentions (volume) or irritant or topic share, 0..1.")
    baseline_mean: float = Field(
        description="Baseline: mean weekly mentions (volume) or the pooled irritant or topic share of the baseline "
        "weeks."
    )
    baseline_sd: float = Field(
        description="Spread: sd of the weekly counts (volume) or binomial standard error of the share this week."
    )
    delta: float = Field(description="value - baseline_mean, in the metric's unit.")
    z: float = Field(description="Signed normal z equivalent to the test's two-sided p-value.")
    p_value: float = Field(description="Two-sided p-value of the test, before correction.")
    q_value: float = Field(description="Benjamini-Hochberg adjusted p-value over every stage and touchpoint test.")
    test: Literal["fisher_exact", "poisson", "negative_binomial"] = Field(description="The test used.")
    score: float = Field(description="Rank: |log2(value / baseline_mean)| x the z of q_value (effect x evidence).")
    direction: Literal["up", "down"]
    mentions: int = Field(description="Mentions this week (topic: the slice's modelled mentions).")
    baseline_mentions: int = Field(description="Mentions in the baseline weeks.")
    slice: str | None = Field(
        default=None, description="Topic alerts: the topic's slice, `stage=*|polarity=irritant` (null otherwise)."
    )
    verbatim_ids: list[int] = Field(
        default_factory=list, description="Topic alerts: up to 3 pieces of feedback of this week in the topic."
    )


class BaselineRange(DateRange):
    weeks: int = Field(description="Whole baseline weeks on or after the workspace's first day with data.")


class AlertsAnswer(BaseModel):
    """The alerts, highest score first; `status` says whether alerts could be judged at all.

    `no_data`: the workspace has no mentions (only `status`, `as_of`, `alerts`, `total` and `filters`).
    `insufficient_history`: the baseline has fewer than `weeks_needed` weeks with data or `mentions_needed`
    mentions; `message` says so and `alerts` is empty. `ok`: the tests ran.
    """

    model_config = _example({
        "status": "ok",
        "message": None,
        "as_of": "2026-06-28",
        "week": {"from": "2026-06-22", "to": "2026-06-28"},
        "baseline": {"from": "2026-04-27", "to": "2026-06-21", "weeks": 8},
        "weeks_with_data": 8,
        "weeks_needed": 4,
        "baseline_mentions": 212,
        "mentions_needed": 30,
        "alpha": 0.05,
        "min_mentions": 5,
        "alerts": [{"dimension": "stage", "id": "support", "label": "Support", "metric": "irritant_share",
                    "value": 0.75, "baseline_mean": 0.2, "baseline_sd": 0.1033, "delta": 0.55, "z": 5.12,
                    "p_value": 3.1e-07, "q_value": 4.9e-06, "test": "fisher_exact", "score": 8.16,
                    "direction": "up", "mentions": 16, "baseline_mentions": 40}],
        "total": 1,
        "filters": {},
    })  # fmt: skip
    status: Literal["ok", "insufficient_history", "no_data"] = Field(description="Whether alerts were judged.")
    message: str | None = Field(
        default=None, description="Why there is no alert yet (insufficient_history), in the requested language."
    )
    as_of: date | None = Field(description="Last day of 'this week' (null without data).")
    week: DateRange | None = None
    baseline: BaselineRange | None = None
    weeks_with_data: int | None = Field(default=None, description="Baseline weeks with at least one mention.")
    weeks_needed: int | None = Field(default=None, description="Weeks with data needed before alerts start.")
    baseline_mentions: int | None = Field(default=None, description="Mentions in the baseline weeks.")
    mentions_needed: int | None = Field(default=None, description="Baseline mentions needed before alerts start.")
    alpha: float | None = Field(default=None, description="False discovery rate (Benjamini-Hochberg).")
    min_mentions: int | None = None
    alerts: list[Alert] = Field(description="At most `limit` alerts, highest score first.")
    total: int = Field(description="Alerts found before the cap.")
    filters: Filters = FILTERS


# --- GET /v1/irritants and /v1/delights --------------------------------------------------------------------------


class Impact(BaseModel):
    """The score without the theme's feedback minus the score with it."""

    rating: float | None = Field(description="On the average rating (5-point scale).")
    nps: float | None = Field(description="On the NPS.")


class WeekCount(BaseModel):
    week: date = Field(description="Monday of the week.")
    mentions: int = Field(description="The theme's mentions that week.")
    total_mentions: int = Field(description="Every mention in scope that week (all themes, all polarities).")
    share: float | None = Field(description="mentions / total_mentions (null for a week without mentions).")


class Trend(BaseModel):
    """The theme's share of the mentions in scope over the last 8 weeks: `rising` or `falling` only when the
    share of the last 4 weeks differs from the share of the 4 before (Fisher's exact test, p < 0.05)."""

    weeks: list[WeekCount]
    slope: float = Field(description="Least-squares slope of the weekly share, in share per week.")
    direction: Literal["rising", "falling", "stable"]
    recent_share: float | None = Field(description="The theme's share of the mentions of the last 4 weeks.")
    previous_share: float | None = Field(description="The theme's share of the mentions of the 4 weeks before.")
    p_value: float | None = Field(description="Fisher's exact test of recent_share against previous_share.")


class Span(BaseModel):
    start: int
    end: int
    text: str


class Verbatim(BaseModel):
    """One of the theme's most typical mentions (highest confidence x |sentiment|): offsets into `text`."""

    feedback_id: int
    text: str
    sentiment: float
    mention: Span
    evidence: list[EvidencePublic] = Field(description="The words that carried the sentiment, of this polarity.")


class ThemeTopic(BaseModel):
    id: int
    label: str
    mentions: int


class SubTheme(BaseModel):
    """One topic of a catch-all theme, with its own mentions and verbatims."""

    id: int = Field(description="Topic id (as in /v1/topics).")
    label: str
    mentions: int = Field(description="The theme's mentions in this topic.")
    verbatims: list[Verbatim]


class Theme(BaseModel):
    """A stage x touchpoint theme of one polarity."""

    stage: str
    stage_label: str
    touchpoint: str
    touchpoint_label: str
    mentions: int
    feedback: int
    share: float = Field(description="The theme's feedback over all analysed feedback in scope.")
    mean_sentiment: float
    intensity: float = Field(description="Mean |sentiment| of its mentions.")
    priority: float = Field(description="100 x share x intensity.")
    impact: Impact
    trend: Trend
    verbatims: list[Verbatim]
    topics: list[ThemeTopic] | None = Field(default=None, description="Its topics, from computed topic models.")
    sub_themes: list[SubTheme] | None = Field(
        default=None,
        description="A catch-all theme (25% or more of its polarity's mentions) split by the computed topics of "
        "its mentions, largest first; null when the theme is not a catch-all or has fewer than two topics.",
    )


class ThemesAnswer(BaseModel):
    """Top irritants (or delights), ranked by priority."""

    model_config = _example({
        "polarity": "irritant",
        "feedback_in_scope": 120,
        "themes": [{
            "stage": "support", "stage_label": "Support", "touchpoint": "phone", "touchpoint_label": "Phone",
            "mentions": 15, "feedback": 14, "share": 0.1167, "mean_sentiment": -0.71, "intensity": 0.71,
            "priority": 8.28, "impact": {"rating": 0.1832, "nps": 6.3},
            "trend": {"weeks": [{"week": "2026-03-16", "mentions": 9, "total_mentions": 60, "share": 0.15}],
                      "slope": 0.0125, "direction": "rising", "recent_share": 0.15, "previous_share": 0.06,
                      "p_value": 0.0121},
            "verbatims": [{
                "feedback_id": 42, "text": "On hold for 45 minutes and then the call dropped.", "sentiment": -0.83,
                "mention": {"start": 0, "end": 48, "text": "On hold for 45 minutes and then the call dropped"},
                "evidence": [{"start": 36, "end": 48, "text": "call dropped", "weight": -0.62}],
            }],
            "topics": [{"id": 3, "label": "hold · call · minutes", "mentions": 8}],
            "sub_themes": None,
        }],
        "filters": {},
    })  # fmt: skip
    polarity: Literal["irritant", "delight"]
    feedback_in_scope: int
    themes: list[Theme]
    filters: Filters = FILTERS


# --- GET /v1/topics ---------------------------------------------------------------------------------------------


class TopicVerbatim(BaseModel):
    feedback_id: int
    text: str = Field(description="The mention's text: feedback text[start:end].")
    start: int
    end: int


class TopicPublic(BaseModel):
    id: int = Field(description="Stable across recomputations.")
    label: str
    words: list[str]
    size: int = Field(description="Mentions in the topic.")
    mean_sentiment: float
    verbatims: list[TopicVerbatim]
    mixed: bool = Field(
        default=False,
        description="A junk drawer: its words describe too few of its mentions; labelled Mixed (Divers), never a "
        "sub-theme or an alert.",
    )


class TopicsAnswer(BaseModel):
    """A slice's topics (the previous ones while a recomputation runs)."""

    model_config = _example({
        "status": "done", "stage": "support", "polarity": "irritant", "mentions": 230,
        "computed_at": "2026-03-21T08:15:02.113204Z", "error": None,
        "topics": [{"id": 0, "label": "attente · téléphone · conseiller", "words": ["attente", "téléphone",
                    "conseiller", "heure"], "size": 64, "mean_sentiment": -0.68,
                    "verbatims": [{"feedback_id": 42, "text": "personne ne décroche", "start": 44, "end": 64}]}],
    })  # fmt: skip
    status: Literal["computing", "done", "failed"] = Field(description="Poll until `done` (or `failed`).")
    stage: str | None
    polarity: Literal["irritant", "delight", "neutral"] | None
    mentions: int = Field(description="Mentions the topics were computed on.")
    computed_at: datetime | None
    error: str | None
    topics: list[TopicPublic]


# --- POST /v1/analyze and GET /health -----------------------------------------------------------------------------


class AnalysedSegment(SegmentPublic):
    """A clause with its labels (stage and touchpoint null when it is not about the journey), as stored, plus the
    mention detector's two probabilities."""

    moment_score: float | None = Field(description="Probability that the clause tells a moment of the journey.")
    continues_previous: float | None = Field(description="Probability that it goes on with the previous moment.")


class AnalysedMention(BaseModel):
    """One moment of the journey (offsets into the text)."""

    stage: str
    touchpoint: str
    polarity: str
    sentiment: float
    emotion: str
    start: int
    end: int
    confidence: float


class Analysis(BaseModel):
    id: str
    language: str
    segments: list[AnalysedSegment]
    mentions: list[AnalysedMention]


class AnalyzeAnswer(BaseModel):
    """One analysis per text, in order."""

    model_config = _example({
        "model": "journey-v1",
        "analyses": [{"id": "t1", "language": "en", "segments": [{
            "text": "the seat was broken", "start": 15, "end": 34, "stage": "usage", "stage_score": 0.91,
            "touchpoint": "product", "touchpoint_score": 0.77, "sentiment": -0.72, "polarity": "irritant",
            "emotion": "disappointment", "emotion_score": 0.64,
            "evidence": [{"text": "broken", "start": 28, "end": 34, "weight": -0.58}],
            "moment_score": 0.95, "continues_previous": 0.12}],
            "mentions": [{"stage": "usage", "touchpoint": "product", "polarity": "irritant", "sentiment": -0.72,
                          "emotion": "disappointment", "start": 15, "end": 34, "confidence": 0.86}]}],
    })  # fmt: skip
    model: str | None = Field(description="The model that analysed the texts.")
    analyses: list[Analysis]


class DatabaseHealth(BaseModel):
    """The database: reachable and migrated to the code's head revision (`ok`); `error` when unreachable."""

    backend: str
    ok: bool
    revision: str | None = None
    head: str | None = None
    error: str | None = Field(default=None, description="The kind of error when unreachable (details are logged).")


class ModelHealth(BaseModel):
    name: str | None = Field(description="`name-version` of the loaded model.")
    embedder: str
    trained: str | None
    taxonomy: str | None = Field(description="Fingerprint of the taxonomy the model was trained on.")
    libraries: dict[str, str]


class HealthAnswer(BaseModel):
    """Service health (the same body with 503 when degraded); public, so it holds no figures (see GET /metrics)."""

    model_config = _example({
        "status": "ok",
        "database": {"backend": "postgresql", "revision": "0007", "head": "0007", "ok": True},
        "model": {"name": "journey-v1", "embedder": "use-multilingual", "trained": "2026-02-14T10:02:11Z",
                  "taxonomy": "9f2c41d0", "libraries": {"scikit-learn": "1.5.2"}},
        "workers": True,
    })  # fmt: skip
    status: Literal["ok", "degraded"]
    database: DatabaseHealth
    model: ModelHealth
    workers: bool = Field(description="Background workers running.")
