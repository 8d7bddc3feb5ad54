"""Background work off the request path: analysing pending feedback and reading uploaded CSV files.

Both workers claim work with a lease in the database (`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL),
so several service processes can share the queue, and work claimed by a process that died is taken up
again once its lease has expired. Progress is committed batch by batch: a restart loses nothing that
was acknowledged, and never stores a row twice (stored feedback is deduplicated by key).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import is_postgres, retry_transaction, session_scope
from app.core.errors import AppError
from app.core.metrics import ANALYSIS_BATCH_SECONDS, FEEDBACK_ANALYSED, FEEDBACK_FAILED, UPLOAD_ROWS
from app.feedback.privacy import masked_reason, pii_secret
from app.feedback.store import mark_failed, store_analyses, store_feedback
from app.jobs.queue import JobKind, Loop, lease
from app.journey.topics import TopicWorker
from app.learning.service import Adapters, LearningWorker
from app.models import Feedback, FeedbackStatus, Upload, UploadRowError, UploadStatus, Workspace, utcnow
from app.reanalysis.service import ReanalysisWorker
from app.schemas import FeedbackCreate
from app.taxonomy.analysis import analyse, feedback_taxonomies, record_versions
from app.uploads.files import discard_read_file, sweep
from app.uploads.mapping import UploadOptions, resolve_columns, row_to_item
from nlp.errors import InputError
from nlp.pipeline import Pipeline, rating_prior
from nlp.readers import CsvExport, FeedbackRow, RowError

logger = logging.getLogger(__name__)


FIRST_BATCH = 16  # texts in the first batch after an idle spell: an upload's progress moves within a second


class AnalysisWorker:
    """Analyse pending feedback in batches and store segments and mentions.

    After an idle spell the first batch is small (`FIRST_BATCH`) and each next one twice as large, up to
    `analysis_batch_size`: the first rows of an upload are analysed (and counted in its progress) within a
    second, and a backlog still runs at full batch size after a few batches.
    """

    def __init__(self, engine: Engine, pipeline: Pipeline, settings: Settings, lock: threading.Lock) -> None:
        self.engine, self.pipeline, self.settings, self.lock = engine, pipeline, settings, lock
        self.model = pipeline.manifest.tag if pipeline.manifest else "custom"
        self.loop = Loop("parcours-analysis", self.run_once, settings.idle_poll_seconds)
        self.batch_size = min(FIRST_BATCH, settings.analysis_batch_size)  # the next batch's size
        self.adapters = Adapters()  # each workspace's model learnt from its corrections

    def claim(self) -> tuple[datetime, list[tuple[int, str, str | None, int | None, float | None]]]:
        """Lease a batch of pending feedback (or feedback whose lease expired).

        Return the lease (it identifies this claim) and the (id, text, language, upload id) of each row.
        """
        until = utcnow() + timedelta(seconds=self.settings.lease_seconds)
        with session_scope(self.engine) as session:
            ids = lease(
                session=session, table=Feedback, waiting=FeedbackStatus.pending.value,
                working=FeedbackStatus.analysing.value, order_by=Feedback.id, limit=self.batch_size,
                until=until, postgres=is_postgres(self.engine),
            )  # fmt: skip
            if not ids:
                return until, []
            columns: list[Any] = [Feedback.id, Feedback.text, Feedback.language, Feedback.upload_id]
            columns += [Feedback.rating, Feedback.rating_scale]
            rows = session.execute(select(*columns).where(Feedback.id.in_(ids)).order_by(Feedback.id)).all()
        # the rating, when given, is the text's tone prior (clauses are scored from their own words first)
        return until, [(r[0], r[1], r[2], r[3], rating_prior(r[4], r[5] or 5.0)) for r in rows]

    def run_once(self) -> int:
        """Analyse one batch; return how many pieces of feedback were analysed."""
        started = time.perf_counter()
        lease, batch = self.claim()
        if not batch:
            self.batch_size = min(FIRST_BATCH, self.settings.analysis_batch_size)  # idle: start small again
            return 0
        self.batch_size = min(2 * self.batch_size, self.settings.analysis_batch_size)
        claimed = time.perf_counter()
        ids = [str(item[0]) for item in batch]
        texts = [item[1] for item in batch]
        languages = [item[2] for item in batch]
        priors = [item[4] for item in batch]
        with session_scope(self.engine) as session:  # each feedback is analysed with its workspace's taxonomy
            taxonomies = feedback_taxonomies(
                session=session, base=self.pipeline.taxonomy, feedback_ids=[item[0] for item in batch]
            )
            adapters = self.adapters.of_feedback(session=session, feedback_ids=[item[0] for item in batch])
        try:
            with self.lock:
                analyses = analyse(
                    self.pipeline, [taxonomies[i[0]] for i in batch], texts, ids, languages, priors,
                    [adapters.get(i[0]) for i in batch],
                )  # fmt: skip
        except Exception:  # isolate the text that breaks the pipeline; the others still get analysed
            logger.exception("analysis of a batch failed; analysing its texts one by one")
            analyses = []
            for feedback_id, text, language, _, prior in batch:
                try:
                    with self.lock:
                        analyses += analyse(
                            self.pipeline, [taxonomies[feedback_id]], [text], [str(feedback_id)], [language], [prior],
                            [adapters.get(feedback_id)],
                        )  # fmt: skip
                except Exception as error:
                    with session_scope(self.engine) as session:
                        mark_failed(session=session, feedback_id=feedback_id, error=f"{type(error).__name__}: {error}")
                    FEEDBACK_FAILED.inc()
        analysed = time.perf_counter()

        def store(session: Session) -> list[int]:
            written = store_analyses(session=session, analyses=analyses, model=self.model, lease=lease)
            record_versions(session=session, versions={i: taxonomies[i].version for i in written})
            finish_uploads(session=session, upload_ids={item[3] for item in batch if item[3] is not None})
            return written

        # A transaction that lost a race (deadlock victim, busy SQLite) is run again at once, not left to the lease
        with Session(self.engine, expire_on_commit=False) as session:
            written = retry_transaction(session, lambda: store(session), what="storing analyses")
        FEEDBACK_ANALYSED.inc(len(written))
        ANALYSIS_BATCH_SECONDS.observe(time.perf_counter() - started)
        logger.info(
            "analysed %d texts: claim %.3f s, pipeline %.3f s, store %.3f s",
            len(written), claimed - started, analysed - claimed, time.perf_counter() - analysed,
        )  # fmt: skip
        return len(written)


def finish_uploads(*, session: Session, upload_ids: set[int]) -> None:
    """Mark uploads done once all their rows are read and none of their feedback is waiting for analysis."""
    for upload_id in sorted(upload_ids):
        waiting = session.scalar(
            select(func.count())
            .select_from(Feedback)
            .where(
                Feedback.upload_id == upload_id,
                Feedback.status.in_([FeedbackStatus.pending.value, FeedbackStatus.analysing.value]),
            )
        )
        if not waiting:
            session.execute(
                update(Upload)
                .where(
                    Upload.id == upload_id,
                    Upload.reading_done.is_(True),
                    Upload.status == UploadStatus.running.value,
                )
                .values(status=UploadStatus.done.value, finished_at=utcnow(), lease_until=None)
            )


class UploadWorker:
    """Read queued CSV uploads chunk by chunk into pending feedback, checkpointing counts with each chunk."""

    def __init__(self, engine: Engine, settings: Settings, on_stored: Callable[[], None] = lambda: None) -> None:
        self.engine, self.settings, self.on_stored = engine, settings, on_stored
        self.loop = Loop("parcours-uploads", self.run_once, settings.idle_poll_seconds)
        self.swept_at = float("-inf")  # time.monotonic() of the last sweep of uploaded files

    def claim(self) -> int | None:
        """Lease the oldest queued upload (or one whose reader died); return its id."""
        now = utcnow()
        with session_scope(self.engine) as session:
            ids = lease(
                session=session, table=Upload, waiting=UploadStatus.queued.value, working=UploadStatus.running.value,
                order_by=Upload.id, limit=1, until=now + timedelta(seconds=self.settings.lease_seconds),
                postgres=is_postgres(self.engine), started_at=func.coalesce(Upload.started_at, now),
            )  # fmt: skip
        return ids[0] if ids else None

    def run_once(self) -> int:
        """Read one upload to its end (or until stopped); return 1 if there was one."""
        upload_id = self.claim()
        if upload_id is None:
            self.sweep_files()
            return 0
        self.process(upload_id)
        return 1

    def sweep_files(self) -> None:
        """Delete uploaded files left behind by a crash: at the worker's start, then at most once a minute."""
        if time.monotonic() - self.swept_at < 60.0:
            return
        self.swept_at = time.monotonic()
        with session_scope(self.engine) as session:
            sweep(session=session, settings=self.settings)

    def _fail(self, upload_id: int, message: str) -> None:
        with session_scope(self.engine) as session:
            session.execute(
                update(Upload)
                .where(Upload.id == upload_id)
                .values(status=UploadStatus.failed.value, finished_at=utcnow(), lease_until=None)
                .values(error=masked_reason(message))  # never a raw cell value
            )

    def process(self, upload_id: int) -> None:
        """Read an upload from its checkpoint on, storing rows and errors chunk by chunk."""
        with session_scope(self.engine) as session:
            upload = session.get(Upload, upload_id)
            assert upload is not None
            workspace = session.get(Workspace, upload.workspace_id)
            assert workspace is not None
        path = Path(upload.stored_path)
        if not path.exists():
            self._fail(upload_id, f"The uploaded file is gone from {path}; upload it again")
            return
        with path.open("rb") as stream:
            try:
                export = CsvExport.open(stream, text_column=upload.mapping.get("text"))
                columns = resolve_columns(export.header, upload.mapping, export.text_column)
            except (InputError, AppError) as error:
                self._fail(upload_id, str(error.detail if isinstance(error, AppError) else error))
                discard_read_file(self.settings, path)
                return
            options = UploadOptions(**upload.options)
            with session_scope(self.engine) as session:
                session.execute(
                    update(Upload)
                    .where(Upload.id == upload_id)
                    .values(encoding=export.encoding, delimiter=export.delimiter, columns=columns)
                )
            chunk: list[FeedbackRow | RowError] = []
            for record in export.rows():
                if record.line <= upload.last_line:
                    continue  # counted before a restart
                chunk.append(record)
                if len(chunk) >= self.settings.upload_chunk_rows:
                    self._store_chunk(upload, workspace, columns, options, chunk, export.position())
                    chunk = []
                    if self.loop.stopping:
                        return  # the lease expires and the next start resumes from the checkpoint
            self._store_chunk(upload, workspace, columns, options, chunk, export.position(), last=True)
        discard_read_file(self.settings, path)  # every row is stored: the file is not needed any more

    def _store_chunk(
        self,
        upload: Upload,
        workspace: Workspace,
        columns: dict[str, str],
        options: UploadOptions,
        chunk: list[FeedbackRow | RowError],
        position: int,
        last: bool = False,
    ) -> None:
        items: list[FeedbackCreate] = []
        errors: list[RowError] = []
        for record in chunk:
            parsed = row_to_item(record, columns, options) if isinstance(record, FeedbackRow) else record
            if isinstance(parsed, RowError):
                errors.append(parsed)
            else:
                items.append(parsed)
        with session_scope(self.engine) as session:
            stored = store_feedback(
                session=session,
                workspace=workspace,
                items=items,
                id_secret=pii_secret(self.settings),
                upload_id=upload.id,
            )
            new = sum(s.created for s in stored)
            listed = session.scalar(
                select(func.count()).select_from(UploadRowError).where(UploadRowError.upload_id == upload.id)
            )
            room = max(self.settings.max_listed_errors - int(listed or 0), 0)
            if errors and room:
                session.execute(
                    insert(UploadRowError),
                    [
                        {"upload_id": upload.id, "line": e.line, "column": e.column, "reason": masked_reason(e.reason)}
                        for e in errors[:room]
                    ],
                )
            values: dict[str, object] = {
                "rows_read": Upload.rows_read + len(chunk),
                "rows_stored": Upload.rows_stored + new,
                "rows_duplicate": Upload.rows_duplicate + len(stored) - new,
                "rows_failed": Upload.rows_failed + len(errors),
                "bytes_read": position,
                "lease_until": utcnow() + timedelta(seconds=self.settings.lease_seconds),
            }
            if chunk:
                values["last_line"] = chunk[-1].line
            if last:  # no lease any more: nothing is left to read, the analysis worker finishes the job
                values.update(reading_done=True, bytes_read=upload.size_bytes, lease_until=None)
            session.execute(update(Upload).where(Upload.id == upload.id).values(**values))
            if last:
                finish_uploads(session=session, upload_ids={upload.id})
        UPLOAD_ROWS.labels(outcome="stored").inc(new)
        UPLOAD_ROWS.labels(outcome="duplicate").inc(len(stored) - new)
        UPLOAD_ROWS.labels(outcome="failed").inc(len(errors))
        if new:
            self.on_stored()


class Workers:
    """The background workers of one process (`parcours serve`, or `parcours worker` alone), started and stopped
    with it. Any number of processes may run them against one database: work is claimed with leases, and a
    worker that nobody wakes (its work was queued by another process) finds it within `idle_poll_seconds`."""

    def __init__(
        self,
        engine: Engine,
        pipeline: Pipeline,
        settings: Settings,
        lock: threading.Lock,
        kinds: Collection[JobKind] = tuple(JobKind),
    ) -> None:
        self.kinds = [kind for kind in JobKind if kind in kinds]
        self.analysis = AnalysisWorker(engine, pipeline, settings, lock)
        self.uploads = UploadWorker(engine, settings, on_stored=self.analysis.loop.wake)
        self.topics = TopicWorker(engine, pipeline, settings, lock)
        self.reanalysis = ReanalysisWorker(engine, pipeline, settings, lock)
        self.learning = LearningWorker(engine, pipeline, settings, lock)
        self.loops = {
            JobKind.analysis: self.analysis.loop,
            JobKind.uploads: self.uploads.loop,
            JobKind.topics: self.topics.loop,
            JobKind.reanalysis: self.reanalysis.loop,
            JobKind.learning: self.learning.loop,
        }

    def start(self) -> None:
        for kind in self.kinds:
            self.loops[kind].start()

    def wake(self, *kinds: JobKind) -> None:
        """Tell the workers of these kinds (default: analysis and uploads) that new work is waiting."""
        for kind in kinds or (JobKind.analysis, JobKind.uploads):
            self.loops[kind].wake()

    def stop(self, grace: float = 5.0) -> None:
        """Stop within about `grace` seconds: a batch being analysed or a chunk being read is finished; a topic
        computation (tens of seconds) gets one second, then is given back to the queue and abandoned (the
        threads are daemons: they end with the process)."""
        deadline = time.monotonic() + grace
        for loop in self.loops.values():
            loop.stop(timeout=0)
        self.topics.stop(min(1.0, grace))
        self.uploads.loop.join(deadline - time.monotonic())
        self.analysis.loop.join(deadline - time.monotonic())
        self.reanalysis.loop.join(deadline - time.monotonic())
        self.learning.loop.join(deadline - time.monotonic())
