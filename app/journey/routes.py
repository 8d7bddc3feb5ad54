"""Journey analytics for dashboards: curve, matrix, irritants, delights, KPIs, alerts (ETag + 304 on each)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from app.api.deps import SessionDep, WorkspaceDep
from app.jobs.queue import JobKind
from app.journey import figures
from app.journey.alerts import ALERT_LIMIT, MIN_WEEKS_WITH_DATA, alerts
from app.journey.answers import (
    AlertsAnswer,
    CurveAnswer,
    CurveSeriesAnswer,
    KpisAnswer,
    MatrixAnswer,
    ThemesAnswer,
    TopicsAnswer,
)
from app.journey.cache import POLLED_PATHS, cached_answer
from app.journey.scope import Scope, ScopeDep, workspace_taxonomy
from app.journey.themes import themes
from app.models import TopicStatus
from app.schemas import Day

router = APIRouter(prefix="/v1", tags=["journey"])
Language = Annotated[Literal["en", "fr"], Query(description="Language of the labels.")]
_ETAG_DOC: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the If-None-Match ETag is still current."}
}


def _answer_doc(model: Any) -> dict[int | str, dict[str, Any]]:
    """The documented responses of an analytics route: its 200 answer's model and the ETag's 304."""
    return {200: {"model": model, "description": "The answer (served with an ETag)."}, **_ETAG_DOC}


def _polled(path: str, summary: str, model: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`router.get` for an analytics answer served through `cached_answer` with no extra ETag input; `model`
    documents the answer (it is not used to produce it)."""
    POLLED_PATHS.add(router.prefix + path)
    return router.get(path, summary=summary, responses=_answer_doc(model))


@_polled("/journey/curve", "The emotion curve across the journey's stages", CurveAnswer | CurveSeriesAnswer)
async def read_curve(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    granularity: Annotated[
        Literal["day", "week", "month"] | None, Query(description="Per period (time series) instead of overall.")
    ] = None,
    lang: Language = "en",
) -> Response:
    """Per stage, in taxonomy order: mentions, feedback, mean sentiment with its 95% confidence interval,
    irritant / delight / neutral shares, net sentiment (-100..100), dominant emotions, and the change
    against the previous period of equal length (when date_from and date_to are given) with a flag when
    the change in mean sentiment is statistically significant (Welch t-test, p < 0.05)."""
    return await cached_answer(
        request,
        scope.workspace,
        lambda: figures.curve(session, scope.workspace.id, scope.taxonomy, scope.filters, lang, granularity),
    )


@_polled("/journey/matrix", "Stage x touchpoint heat map", MatrixAnswer)
async def read_matrix(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    lang: Language = "en",
) -> Response:
    """Mentions, mean sentiment and shares for every stage x touchpoint cell that has mentions."""
    return await cached_answer(
        request,
        scope.workspace,
        lambda: figures.matrix(session, scope.workspace.id, scope.taxonomy, scope.filters, lang),
    )


async def _themes(
    polarity: str, request: Request, session: SessionDep, scope: Scope, limit: int, lang: str
) -> Response:
    from app.journey.topics import theme_topics

    workspace = scope.workspace
    return await cached_answer(
        request,
        workspace,
        lambda: themes(
            session,
            workspace.id,
            scope.taxonomy,
            scope.filters,
            polarity,
            lang,
            limit,
            theme_topics(session, workspace.id, polarity),
        ),  # fmt: skip
    )


@_polled("/irritants", "Top irritants, ranked by priority", ThemesAnswer)
async def read_irritants(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    limit: Annotated[int, Query(ge=1, le=100, description="How many themes, best first (1-100).")] = 10,
    lang: Language = "en",
) -> Response:
    """Themes (stage x touchpoint, with their topics when computed) ranked by priority = 100 x share of
    feedback x intensity of dissatisfaction; each with its impact on the average rating and NPS, its weekly
    trend and 3 verbatims whose evidence is located by offsets."""
    return await _themes("irritant", request, session, scope, limit, lang)


@_polled("/delights", "Top delights, ranked by priority", ThemesAnswer)
async def read_delights(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    limit: Annotated[int, Query(ge=1, le=100, description="How many themes, best first (1-100).")] = 10,
    lang: Language = "en",
) -> Response:
    """The same as /v1/irritants for delights (intensity = mean positive sentiment)."""
    return await _themes("delight", request, session, scope, limit, lang)


@_polled("/kpis", "NPS and CSAT, overall and per stage", KpisAnswer)
async def read_kpis(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    lang: Language = "en",
) -> Response:
    """NPS (% of 9-10 minus % of 0-6) and CSAT (% of ratings 4-5 out of 5), with their counts."""
    return await cached_answer(
        request,
        scope.workspace,
        lambda: figures.kpis(session, scope.workspace.id, scope.taxonomy, scope.filters, lang),
    )


@_polled("/alerts", "Stages and touchpoints departing from their baseline", AlertsAnswer)
async def read_alerts(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    as_of: Annotated[Day | None, Query(description="Last day of 'this week' (default: last day with data).")] = None,
    alpha: Annotated[
        float, Query(gt=0, lt=1, description="False discovery rate of the family of tests (Benjamini-Hochberg).")
    ] = 0.05,
    min_mentions: Annotated[int, Query(ge=1, description="Mentions needed this week to judge.")] = 5,
    weeks: Annotated[
        int,
        Query(
            ge=MIN_WEEKS_WITH_DATA, le=52, description="Weeks in the trailing baseline (only weeks with data count)."
        ),
    ] = 8,
    limit: Annotated[
        int, Query(ge=1, le=100, description="How many alerts, highest score first (1-100).")
    ] = ALERT_LIMIT,
    lang: Language = "en",
) -> Response:
    """Irritant share (Fisher's exact test) and mention volume (Poisson or negative binomial) of this week
    against the trailing baseline, for every stage and touchpoint, corrected for multiple testing
    (Benjamini-Hochberg); ranked by effect x evidence and capped at `limit` (`total` counts them all).
    Until the baseline has enough history, `status` is `insufficient_history` with the weeks and mentions
    still needed, and no alert."""
    return await cached_answer(
        request,
        scope.workspace,
        lambda: alerts(
            session,
            scope.workspace.id,
            scope.taxonomy,
            scope.filters,
            language=lang,
            as_of=as_of,
            alpha=alpha,
            min_mentions=min_mentions,
            weeks=weeks,
            limit=limit,
        ),  # fmt: skip
    )


@router.get(
    "/topics",
    summary="Topics inside a slice of mentions (BERTopic, computed in the background)",
    responses=_answer_doc(TopicsAnswer),
)
async def read_topics(
    request: Request,
    workspace: WorkspaceDep,
    stage: Annotated[str | None, Query(description="Stage id (default: every stage).")] = None,
    polarity: Annotated[
        Literal["irritant", "delight", "neutral"] | None, Query(description="Polarity (default: every one).")
    ] = None,
    lang: Language = "en",
) -> Response:
    """The slice's topics: label words (French and English stop words removed), size, mean sentiment and
    representative verbatims; a topic whose words describe too few of its mentions is labelled Mixed (Divers).
    The first call queues the computation and answers `status: computing`; poll until `done`. Topics are
    recomputed when the slice has grown, keeping their ids."""
    from app.core.db import session_scope
    from app.journey.scope import check_allowed
    from app.journey.topics import request_topics, topics_answer

    if stage is not None:
        check_allowed("stage", [stage], [label.id for label in workspace_taxonomy(request, workspace).stages])

    def queued() -> Any:
        with session_scope(request.app.state.engine) as session:  # may queue a computation: a writer
            return request_topics(session=session, workspace=workspace, stage=stage, polarity=polarity)

    model = await run_in_threadpool(queued)
    workers = request.app.state.workers
    if workers is not None and model.status == TopicStatus.queued:
        workers.wake(JobKind.topics)
    return await cached_answer(
        request,
        workspace,
        lambda: topics_answer(model, stage, polarity, lang),
        extra=f"{model.id}:{model.status}:{model.finished_at}",
    )
