"""GET /metrics: this process's Prometheus metrics and the job queues' depths (admin token or `metrics_public`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from app.api.deps import SettingsDep, require_admin
from app.core.db import reader
from app.core.metrics import CONTENT_TYPE, exposition
from app.jobs.queue import JobKind
from app.models import (
    Feedback,
    FeedbackStatus,
    LearningStatus,
    Reanalysis,
    ReanalysisStatus,
    TopicModel,
    TopicStatus,
    Upload,
    UploadStatus,
    WorkspaceModel,
)

router = APIRouter(tags=["health"])

# Each job kind's table and the statuses of its jobs that wait or run.
_QUEUES = {
    JobKind.analysis: (Feedback, (FeedbackStatus.pending, FeedbackStatus.analysing)),
    JobKind.uploads: (Upload, (UploadStatus.queued, UploadStatus.running)),
    JobKind.topics: (TopicModel, (TopicStatus.queued, TopicStatus.computing)),
    JobKind.reanalysis: (Reanalysis, (ReanalysisStatus.queued, ReanalysisStatus.running)),
    JobKind.learning: (WorkspaceModel, (LearningStatus.fitting,)),
}


def queue_depths(engine: Engine) -> dict[str, int]:
    """Jobs waiting or running, by kind, in the whole service (every process's)."""
    with reader(engine).connect() as connection:
        return {
            kind.value: int(
                connection.scalar(
                    select(func.count()).select_from(table).where(table.status.in_([s.value for s in statuses]))
                )
                or 0
            )
            for kind, (table, statuses) in _QUEUES.items()
        }


async def metrics_access(
    request: Request,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header(description="Bearer ADMIN_TOKEN")] = None,
) -> None:
    """Let the scrape through when metrics are public (PARCOURS_METRICS_PUBLIC), else only with the admin token."""
    if not settings.metrics_public:
        await require_admin(request, settings, authorization)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    dependencies=[Depends(metrics_access)],
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "The Prometheus text format."}},
)
def metrics(request: Request) -> Response:
    """Metrics of the process that answers (requests, analyses, uploads) and the queue depths of the service."""
    return Response(exposition(queue_depths(request.app.state.engine)), media_type=CONTENT_TYPE)
