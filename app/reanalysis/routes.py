"""Re-analysis of a workspace's feedback after a taxonomy or model change: queue it, follow its progress."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import SessionDep, WorkersDep, WorkspaceDep, owned
from app.core.db import retry_transaction
from app.jobs.queue import JobKind
from app.models import Reanalysis
from app.reanalysis.service import request_reanalysis
from app.schemas import Identifier

router = APIRouter(prefix="/v1/reanalysis", tags=["reanalysis"])


class ReanalysisCreate(BaseModel):
    """Who asks for the re-analysis."""

    model_config = ConfigDict(extra="forbid")

    author: Identifier | None = None


class ReanalysisPublic(BaseModel):
    """A re-analysis job and its progress."""

    id: int
    status: Literal["queued", "running", "done", "failed"]
    taxonomy_version: int = Field(description="The workspace's taxonomy version when it was asked for.")
    model: str | None = Field(description="The model the feedback is analysed with.")
    total: int = Field(description="Analysed feedback when it was asked for.")
    done: int = Field(description="Feedback re-analysed so far.")
    progress: float = Field(description="done / total, 0..1 (1 once done).")
    author: str | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def reanalysis_public(job: Reanalysis) -> ReanalysisPublic:
    """A job as the API shows it."""
    assert job.id is not None
    progress = 1.0 if job.status == "done" else (min(job.done / job.total, 1.0) if job.total else 0.0)
    return ReanalysisPublic(
        id=job.id, status=job.status, taxonomy_version=job.taxonomy_version, model=job.model,
        total=job.total, done=job.done, progress=round(progress, 4), author=job.author, error=job.error,
        created_at=job.created_at, started_at=job.started_at, finished_at=job.finished_at,
    )  # fmt: skip


@router.post("", status_code=202, response_model=ReanalysisPublic, summary="Re-analyse the workspace's feedback")
def create_reanalysis(
    request: Request,
    session: SessionDep,
    workspace: WorkspaceDep,
    workers: WorkersDep,
    body: ReanalysisCreate | None = None,
) -> ReanalysisPublic:
    """Analyse every analysed feedback again with the workspace's current taxonomy and the service's model, in the
    background. Each feedback's figures switch over in one transaction (corrections applied again): nothing is
    counted twice and dashboards keep answering. A job already queued or running is answered instead of a new one."""
    assert workspace.id is not None
    workspace_id = workspace.id
    model_tag: str = request.app.state.model_tag
    job = retry_transaction(
        session,
        lambda: request_reanalysis(
            session=session, workspace_id=workspace_id, model=model_tag, author=body.author if body else None
        ),
        what="the re-analysis request",
    )
    if workers is not None:
        workers.wake(JobKind.reanalysis)
    return reanalysis_public(job)


@router.get("/{reanalysis_id}", response_model=ReanalysisPublic, summary="A re-analysis and its progress")
def read_reanalysis(
    reanalysis_id: Annotated[int, Path(description="The id POST /v1/reanalysis answered.")],
    session: SessionDep,
    workspace: WorkspaceDep,
) -> ReanalysisPublic:
    """The job's status and progress (404 for another workspace's)."""
    return reanalysis_public(owned(session, Reanalysis, reanalysis_id, workspace, "reanalysis"))
