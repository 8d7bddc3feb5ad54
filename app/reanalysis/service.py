"""Re-analysis: a workspace's analysed feedback analysed again with its current taxonomy and model, in the
background, batch by batch. Each feedback's segments, mentions and rollup contribution are replaced in one
transaction (its corrections applied again first), so figures switch over without counting anything twice and
dashboards keep answering while it runs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import is_postgres, session_scope
from app.corrections.service import corrected, corrections_of, feedback_sentiment
from app.feedback.records import MENTION_FIELDS, mention_row, segment_row
from app.feedback.store import bulk_insert, bump_version, mention_attributes, text_sentiment, update_rollup
from app.jobs.queue import Loop, lease
from app.learning.service import Adapters
from app.models import (
    Feedback,
    FeedbackStatus,
    MentionRow,
    Reanalysis,
    ReanalysisStatus,
    SegmentRow,
    Workspace,
    utcnow,
)
from app.taxonomy.analysis import analyse, record_versions
from app.taxonomy.service import read_taxonomy
from nlp.pipeline import Pipeline, rating_prior
from nlp.types import Analysis

logger = logging.getLogger(__name__)

_ACTIVE = (ReanalysisStatus.queued.value, ReanalysisStatus.running.value)


def request_reanalysis(*, session: Session, workspace_id: int, model: str, author: str | None) -> Reanalysis:
    """Queue a re-analysis of the workspace's analysed feedback; one already queued or running is returned instead."""
    workspace = session.execute(select(Workspace).where(Workspace.id == workspace_id).with_for_update()).scalar_one()
    running = session.scalars(
        select(Reanalysis).where(Reanalysis.workspace_id == workspace_id, Reanalysis.status.in_(_ACTIVE))
    ).first()
    if running is not None:
        return running
    total = session.scalar(
        select(func.count())
        .select_from(Feedback)
        .where(Feedback.workspace_id == workspace_id, Feedback.status == FeedbackStatus.analysed.value)
    )
    job = Reanalysis(
        workspace_id=workspace_id,
        taxonomy_version=workspace.taxonomy_version,
        model=model,
        total=int(total or 0),
        author=author,
    )
    session.add(job)
    session.flush()
    return job


def replace_analyses(
    *, session: Session, analyses: Sequence[Analysis], model: str, versions: dict[int, int]
) -> list[int]:
    """Write fresh analyses over the stored ones of still-analysed feedback, corrections applied again, in the
    caller's transaction: old segments and mentions out (and out of the rollup), new ones in. Return the ids."""
    ids = sorted(int(a.id) for a in analyses)
    rows = session.scalars(
        select(Feedback)
        .where(Feedback.id.in_(ids), Feedback.status == FeedbackStatus.analysed.value)
        .order_by(Feedback.id)  # locked in id order, as the analysis worker and corrections lock them
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    feedback_of: dict[int, Feedback] = {int(f.id or 0): f for f in rows}
    kept = [a for a in analyses if int(a.id) in feedback_of]
    if not kept:
        return []
    written = sorted(feedback_of)
    table = MentionRow.__table__
    old = [dict(r._mapping) for r in session.execute(select(table).where(table.c.feedback_id.in_(written)))]
    update_rollup(session=session, mentions=old, sign=-1)
    session.execute(delete(table).where(table.c.feedback_id.in_(written)))
    session.execute(delete(SegmentRow.__table__).where(SegmentRow.__table__.c.feedback_id.in_(written)))
    corrections = corrections_of(session=session, feedback_ids=written)
    segments, mentions = [], []
    now = utcnow()
    for analysis in kept:
        feedback = feedback_of[int(analysis.id)]
        placed = {"feedback_id": feedback.id, "workspace_id": feedback.workspace_id}
        attributes = mention_attributes(feedback) | {"language": feedback.language or analysis.language}
        segments += [segment_row(s, position, **placed) for position, s in enumerate(analysis.segments)]
        fresh = [mention_row(m, position, **placed, **attributes) for position, m in enumerate(analysis.mentions)]
        assert feedback.id is not None
        if corrections[feedback.id]:
            fresh = corrected(fresh, analysis.segments, corrections[feedback.id])
        keys = ["position", *placed, *attributes, *MENTION_FIELDS]
        fresh = [{**{k: m.get(k) for k in keys}, **placed, **attributes, "position": i} for i, m in enumerate(fresh)]
        mentions += fresh
        sentiment = text_sentiment(analysis) if not corrections[feedback.id] else feedback_sentiment(fresh)
        session.execute(
            update(Feedback).where(Feedback.id == feedback.id).values(sentiment=sentiment, model=model, analysed_at=now)
        )
    bulk_insert(session, SegmentRow.__table__, segments)
    if mentions:
        bulk_insert(session, table, mentions)
        update_rollup(session=session, mentions=mentions)
    record_versions(session=session, versions={i: versions[i] for i in written if i in versions})
    bump_version(session=session, workspace_ids=sorted({f.workspace_id for f in rows}))
    return written


class ReanalysisWorker:
    """Run queued re-analysis jobs: each to its end, batch by batch, checkpointed (a restart resumes it)."""

    def __init__(self, engine: Engine, pipeline: Pipeline, settings: Settings, lock: threading.Lock) -> None:
        self.engine, self.pipeline, self.settings, self.lock = engine, pipeline, settings, lock
        self.model = pipeline.manifest.tag if pipeline.manifest else "custom"
        self.loop = Loop("parcours-reanalysis", self.run_once, settings.idle_poll_seconds)
        self.adapters = Adapters()  # each workspace's model learnt from its corrections (app.learning)

    def _lease(self) -> datetime:
        return utcnow() + timedelta(seconds=self.settings.lease_seconds)

    def claim(self, job_id: int | None = None) -> int | None:
        """Lease the oldest queued job (or one whose runner died), or job `job_id` if it waits; return its id."""
        now = utcnow()
        with session_scope(self.engine) as session:
            ids = lease(
                session=session, table=Reanalysis, waiting=ReanalysisStatus.queued.value,
                working=ReanalysisStatus.running.value, order_by=Reanalysis.id, limit=1, until=self._lease(),
                postgres=is_postgres(self.engine), started_at=func.coalesce(Reanalysis.started_at, now),
                where=None if job_id is None else Reanalysis.id == job_id,
            )  # fmt: skip
        return ids[0] if ids else None

    def run_once(self) -> int:
        """Run one job to its end (or until stopped); return 1 if there was one."""
        job_id = self.claim()
        if job_id is None:
            return 0
        self.run(job_id)
        return 1

    def run(self, job_id: int, on_batch: Callable[[], None] = lambda: None) -> None:
        """Run a claimed job to its end (or until stopped), calling `on_batch` after each batch."""
        try:
            while not self.loop.stopping and self.step(job_id):
                on_batch()
        except Exception as error:
            logger.exception("re-analysis %d failed", job_id)
            with session_scope(self.engine) as session:
                session.execute(
                    update(Reanalysis)
                    .where(Reanalysis.id == job_id)
                    .values(
                        status=ReanalysisStatus.failed.value,
                        error=f"{type(error).__name__}: {error}"[:2000],
                        finished_at=utcnow(),
                        lease_until=None,
                    )
                )

    def step(self, job_id: int) -> bool:
        """Re-analyse the job's next batch; return False once the job is done."""
        with session_scope(self.engine) as session:
            job = session.get(Reanalysis, job_id)
            assert job is not None
            workspace = session.get(Workspace, job.workspace_id)
            assert workspace is not None
            f = Feedback.__table__.c
            batch = session.execute(
                select(f.id, f.text, f.language, f.rating, f.rating_scale)
                .where(
                    f.workspace_id == job.workspace_id,
                    f.status == FeedbackStatus.analysed.value,
                    f.id > job.last_feedback_id,
                )  # fmt: skip
                .order_by(f.id)
                .limit(self.settings.analysis_batch_size)
            ).all()
            taxonomy = read_taxonomy(
                session=session, workspace_id=workspace.id or 0, version=workspace.taxonomy_version,
                base=self.pipeline.taxonomy,
            )  # fmt: skip
            adapters = self.adapters.of_feedback(session=session, feedback_ids=[r.id for r in batch])
        if not batch:
            with session_scope(self.engine) as session:
                session.execute(
                    update(Reanalysis)
                    .where(Reanalysis.id == job_id)
                    .values(status=ReanalysisStatus.done.value, finished_at=utcnow(), lease_until=None)
                )
            return False
        with self.lock:
            analyses = analyse(
                self.pipeline, [taxonomy] * len(batch), [r.text for r in batch], [str(r.id) for r in batch],
                [r.language for r in batch], [rating_prior(r.rating, r.rating_scale or 5.0) for r in batch],
                [adapters.get(r.id) for r in batch],
            )  # fmt: skip
        with session_scope(self.engine) as session:
            written = replace_analyses(
                session=session, analyses=analyses, model=self.model, versions={r.id: taxonomy.version for r in batch}
            )
            session.execute(
                update(Reanalysis)
                .where(Reanalysis.id == job_id)
                .values(done=Reanalysis.done + len(written), last_feedback_id=batch[-1].id, lease_until=self._lease())
            )
        return True
