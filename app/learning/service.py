"""Learning from corrections: each workspace's adapted model (`nlp.adapt.Adapter`) refitted in the background from
its corrections, stored with its model score, and applied by the analysis worker to the workspace's new feedback.

A workspace needs a refit when it has a correction newer than the last one its model learnt: the learning worker
finds such workspaces by looking at the tables (woken at once by a correction in this process; every
`idle_poll_seconds` otherwise), claims one with a lease on its `workspace_model` row, fits outside any
transaction and stores the result."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import session_scope
from app.corrections.apply import CorrectionAction
from app.jobs.queue import Loop
from app.models import Correction, Feedback, LearningStatus, Workspace, WorkspaceModel, utcnow
from app.taxonomy.service import read_taxonomy
from nlp.adapt import Adapter, Taught, fit
from nlp.pipeline import Pipeline

logger = logging.getLogger(__name__)


def taught_of(*, session: Session, workspace_id: int, up_to: int) -> list[Taught]:
    """The workspace's corrections up to id `up_to` that give labels (set, add), oldest first, as nlp reads them.
    A deletion teaches nothing here: it says "no moment", which the adapter does not learn."""
    rows = session.execute(
        select(Correction.start, Correction.end, Correction.after, Feedback.text, Feedback.language)
        .join(Feedback, Feedback.id == Correction.feedback_id)
        .where(
            Correction.workspace_id == workspace_id,
            Correction.id <= up_to,
            Correction.action.in_([CorrectionAction.set.value, CorrectionAction.add.value]),
        )
        .order_by(Correction.id)
    ).all()
    return [
        Taught(text=r.text, start=r.start, end=r.end, labels=dict(r.after), language=r.language)
        for r in rows
        if r.after
    ]


def claim(*, session: Session, lease_seconds: float) -> tuple[int, int] | None:
    """Lease the refit of one workspace whose model is behind its corrections; return (workspace id, the last
    correction id it will learn), or None when every model is up to date or being fitted elsewhere."""
    now = utcnow()
    latest = (
        select(Correction.workspace_id, func.max(Correction.id).label("latest"))
        .group_by(Correction.workspace_id)
        .subquery()
    )
    m = WorkspaceModel.__table__.c
    free = or_(m.status != LearningStatus.fitting.value, m.lease_until < now)
    found = session.execute(
        select(latest.c.workspace_id, latest.c.latest, m.id)
        .outerjoin(WorkspaceModel, m.workspace_id == latest.c.workspace_id)
        .where(or_(m.id.is_(None), and_(m.last_correction_id < latest.c.latest, free)))
        .order_by(latest.c.workspace_id)
        .limit(1)
    ).first()
    if found is None:
        return None
    until = now + timedelta(seconds=lease_seconds)
    if found.id is None:
        try:
            with session.begin_nested():
                session.add(WorkspaceModel(workspace_id=found.workspace_id, lease_until=until))
        except IntegrityError:  # another worker created it first: it fits this workspace
            return None
        return int(found.workspace_id), int(found.latest)
    claimed = session.execute(
        update(WorkspaceModel)
        .where(m.id == found.id, free)
        .values(status=LearningStatus.fitting.value, lease_until=until)
    )
    return (int(found.workspace_id), int(found.latest)) if claimed.rowcount else None


class LearningWorker:
    """Refit workspaces' adapted models from their corrections, one workspace a step."""

    def __init__(self, engine: Engine, pipeline: Pipeline, settings: Settings, lock: threading.Lock) -> None:
        self.engine, self.pipeline, self.settings, self.lock = engine, pipeline, settings, lock
        self.loop = Loop("parcours-learning", self.run_once, settings.idle_poll_seconds)

    def run_once(self) -> int:
        """Refit one workspace whose model is behind; return 1 if there was one."""
        with session_scope(self.engine) as session:
            claimed = claim(session=session, lease_seconds=self.settings.lease_seconds)
        if claimed is None:
            return 0
        workspace_id, up_to = claimed
        try:
            self.refit(workspace_id, up_to)
        except Exception as error:  # a model that cannot be fitted must not stop the worker or retry in a loop
            logger.exception("learning: refit of workspace %d failed", workspace_id)
            with session_scope(self.engine) as session:
                session.execute(
                    update(WorkspaceModel)
                    .where(WorkspaceModel.workspace_id == workspace_id)
                    .values(status=LearningStatus.failed.value, last_correction_id=up_to, lease_until=None)
                    .values(error=f"{type(error).__name__}: {error}"[:2000])
                )
        return 1

    def refit(self, workspace_id: int, up_to: int) -> None:
        """Fit the workspace's adapter on its corrections up to `up_to` and store it with its model score."""
        started = time.perf_counter()
        with session_scope(self.engine) as session:
            taught = taught_of(session=session, workspace_id=workspace_id, up_to=up_to)
            workspace = session.get(Workspace, workspace_id)
            assert workspace is not None
            taxonomy = read_taxonomy(
                session=session, workspace_id=workspace_id, version=workspace.taxonomy_version,
                base=self.pipeline.taxonomy,
            )  # fmt: skip
        with self.lock:
            view = self.pipeline.with_taxonomy(taxonomy.analysed())
            adapter, score = fit(view, taught) if taught else (Adapter(), None)
        seconds = time.perf_counter() - started
        with session_scope(self.engine) as session:
            session.execute(
                update(WorkspaceModel)
                .where(WorkspaceModel.workspace_id == workspace_id)
                .values(
                    status=LearningStatus.idle.value, version=WorkspaceModel.version + 1, last_correction_id=up_to,
                    corrections=len(taught), examples=adapter.examples, adapter=adapter.to_bytes(),
                    adapted_score=score.adapted if score else None, shipped_score=score.shipped if score else None,
                    scored_items=score.items if score else 0, folds=score.folds if score else 0,
                    fit_seconds=round(seconds, 3), fitted_at=utcnow(), lease_until=None, error=None,
                )
            )  # fmt: skip
            learnt = select(WorkspaceModel.version).where(WorkspaceModel.workspace_id == workspace_id)
            session.execute(  # the answers name the adapted model's version (X-Parcours-Versions)
                update(Workspace).where(Workspace.id == workspace_id).values(model_version=learnt.scalar_subquery())
            )
        logger.info("learning: workspace %d learnt %d corrections in %.2f s", workspace_id, len(taught), seconds)


class Adapters:
    """The adapted model of each workspace, read from the table when its version changes (one process's cache)."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[int, Adapter]] = {}

    def of_feedback(self, *, session: Session, feedback_ids: Sequence[int]) -> dict[int, Adapter | None]:
        """Each feedback's workspace adapter (None where the workspace has learnt nothing)."""
        rows = session.execute(
            select(Feedback.id, Feedback.workspace_id, WorkspaceModel.version)
            .outerjoin(WorkspaceModel, WorkspaceModel.workspace_id == Feedback.workspace_id)
            .where(Feedback.id.in_(list(feedback_ids)))
        ).all()
        result: dict[int, Adapter | None] = {}
        for feedback_id, workspace_id, version in rows:
            result[feedback_id] = self.of_workspace(session=session, workspace_id=workspace_id, version=version or 0)
        return result

    def of_workspace(self, *, session: Session, workspace_id: int, version: int) -> Adapter | None:
        """The workspace's adapter at `version` (None for version 0, or one that learnt nothing)."""
        if not version:
            return None
        cached = self._cache.get(workspace_id)
        if cached is None or cached[0] != version:
            data = session.scalar(
                select(WorkspaceModel.adapter).where(
                    WorkspaceModel.workspace_id == workspace_id, WorkspaceModel.version == version
                )
            )
            adapter = Adapter.from_bytes(data) if data else Adapter()
            cached = (version, adapter)
            self._cache[workspace_id] = cached
        return cached[1] if cached[1].families else None


def model_of(*, session: Session, workspace_id: int) -> tuple[WorkspaceModel | None, int, datetime | None]:
    """The workspace's model row, how many corrections it has not learnt yet, and when the last one was made."""
    model = session.scalars(select(WorkspaceModel).where(WorkspaceModel.workspace_id == workspace_id)).first()
    learnt = model.last_correction_id if model else 0
    pending, last = session.execute(
        select(func.count(), func.max(Correction.created_at)).where(
            Correction.workspace_id == workspace_id, Correction.id > learnt
        )
    ).one()
    return model, int(pending or 0), last
