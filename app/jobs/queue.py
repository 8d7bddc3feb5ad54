"""The job queue's mechanics, shared by every kind of background work: a database lease and a worker loop.

Work waits in its own table (feedback to analyse, uploads to read, topic models to compute); a worker claims
rows with `lease()` (a status change and an expiry, so that a crashed worker's rows are claimed again once the
lease has expired) and runs in a `Loop` thread that sleeps when idle until `wake()`. The tables are the queue:
a worker in another process (`parcours worker`) is never woken, it finds work by looking every idle interval.
Which statuses each kind of job goes through is in `app.models` (FeedbackStatus, UploadStatus, TopicStatus);
this module knows none of them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlmodel import Session

from app.models import utcnow

logger = logging.getLogger(__name__)


class JobKind(StrEnum):
    """The kinds of background work; `Workers.wake(kind)` is the one way to tell a worker that work waits."""

    analysis = "analysis"
    uploads = "uploads"
    topics = "topics"
    reanalysis = "reanalysis"
    learning = "learning"


class Loop:
    """A daemon thread calling `step` until stopped; it sleeps when there is no work or until woken."""

    def __init__(self, name: str, step: Callable[[], int], idle_seconds: float) -> None:
        self.name, self.step, self.idle_seconds = name, step, idle_seconds
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread."""
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Run the next step now rather than after the idle wait."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop after the current step; wait for it up to `timeout` seconds. Return True if the thread ended."""
        self._stop.set()
        self._wake.set()
        return self.join(timeout)

    def join(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the thread to end; return True if it has (or never started)."""
        if self._thread is not None:
            self._thread.join(max(timeout, 0.0))
            return not self._thread.is_alive()
        return True

    @property
    def stopping(self) -> bool:
        """True once `stop()` was called (long steps check it between chunks)."""
        return self._stop.is_set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                done = self.step()
            except Exception:  # a worker must survive a bad batch or a lost database connection
                logger.exception("%s: step failed; retrying", self.name)
                done = 0
            if not done:
                self._wake.wait(self.idle_seconds)
                self._wake.clear()


def lease(
    *,
    session: Session,
    table: Any,
    waiting: str,
    working: str,
    order_by: Any,
    limit: int,
    until: datetime,
    postgres: bool,
    where: Any = None,
    **values: Any,
) -> list[int]:
    """Claim up to `limit` rows that wait (status `waiting`) or whose `working` lease expired (among those `where`
    selects, if given): set them `working` with the lease `until` (and `values`) and return their ids. Rows locked
    by another claimer are skipped."""
    now = utcnow()
    query = select(table.id).where(or_(table.status == waiting, and_(table.status == working, table.lease_until < now)))
    if where is not None:
        query = query.where(where)
    query = query.order_by(order_by).limit(limit)
    if postgres:
        query = query.with_for_update(skip_locked=True)
    ids = [int(i) for i in session.scalars(query)]
    if ids:
        session.execute(update(table).where(table.id.in_(ids)).values(status=working, lease_until=until, **values))
    return ids
