"""Topics per slice of a workspace's mentions: requested by GET /v1/topics, computed by a background worker.

A slice is (stage, polarity). Its result is kept in `topic_model` with the workspace data version it was
computed on; when enough new mentions have arrived since, it is recomputed in the background while the
previous topics are still served (ids stay stable: see nlp.topics).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import is_postgres, session_scope
from app.feedback.privacy import masked_reason
from app.feedback.store import bump_version
from app.jobs.queue import Loop, lease
from app.models import Feedback, MentionRow, TopicModel, TopicStatus, Workspace, utcnow
from nlp.pipeline import Pipeline
from nlp.topics import MIXED_LABELS, TopicModeller, topic_from_dict

logger = logging.getLogger(__name__)

MAX_MENTIONS = 5000  # the most recent mentions of a slice that are modelled
REFRESH_SHARE = 0.2  # recompute once the slice has grown by this share


def slice_key(stage: str | None, polarity: str | None) -> str:
    """Name a slice: `stage=support|polarity=irritant`, `*` for any."""
    return f"stage={stage or '*'}|polarity={polarity or '*'}"


def _slice_conditions(workspace_id: int, stage: str | None, polarity: str | None) -> list[Any]:
    m = MentionRow.__table__.c
    conditions = [m.workspace_id == workspace_id]
    if stage:
        conditions.append(m.stage == stage)
    if polarity:
        conditions.append(m.polarity == polarity)
    return conditions


def slice_size(session: Session, workspace_id: int, stage: str | None, polarity: str | None) -> int:
    """Return the number of mentions in a slice."""
    return int(
        session.scalar(
            select(func.count()).select_from(MentionRow).where(*_slice_conditions(workspace_id, stage, polarity))
        )
        or 0
    )


def request_topics(*, session: Session, workspace: Workspace, stage: str | None, polarity: str | None) -> TopicModel:
    """Return the slice's topic model, queueing a (re)computation when there is none or it is out of date."""
    key = slice_key(stage, polarity)
    model = session.scalar(select(TopicModel).where(TopicModel.workspace_id == workspace.id, TopicModel.slice == key))
    if model is None:
        model = TopicModel(
            workspace_id=workspace.id, slice=key, status=TopicStatus.queued.value, data_version=workspace.data_version
        )
        session.add(model)
        session.commit()
        return model
    if model.status == TopicStatus.done.value and model.data_version != workspace.data_version:
        computed_on = int(model.result.get("mentions", 0))
        grown = slice_size(session, workspace.id, stage, polarity) - computed_on
        if grown > max(REFRESH_SHARE * computed_on, 5):
            session.execute(
                update(TopicModel)
                .where(TopicModel.id == model.id, TopicModel.status == TopicStatus.done.value)
                .values(status=TopicStatus.queued.value)
            )
            session.commit()
            model.status = TopicStatus.queued.value
    return model


def topics_answer(model: TopicModel, stage: str | None, polarity: str | None, language: str = "en") -> dict[str, Any]:
    """The API view of a slice's topics (the previous result while a recomputation runs); a junk-drawer topic
    is labelled "Mixed" ("Divers") in `language`."""
    result = model.result or {}
    mixed = MIXED_LABELS.get(language, MIXED_LABELS["en"])
    status = {"queued": "computing", "computing": "computing"}.get(model.status, model.status)
    return {
        "status": status,
        "stage": stage,
        "polarity": polarity,
        "mentions": result.get("mentions", 0),
        "computed_at": result.get("computed_at"),
        "error": model.error,
        "topics": [
            {k: t[k] for k in ("id", "words", "size", "mean_sentiment", "verbatims")}
            | {"label": mixed if t.get("mixed") else t["label"], "mixed": bool(t.get("mixed"))}
            for t in result.get("topics", [])
        ],
    }


def theme_topics(session: Session, workspace_id: int, polarity: str) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """For the irritant (delight) themes: the topics of their mentions, from every computed slice of that polarity."""
    models = session.scalars(
        select(TopicModel).where(
            TopicModel.workspace_id == workspace_id, TopicModel.slice.like(f"%|polarity={polarity}"),
            TopicModel.result != None,  # noqa: E711
        )
    ).all()  # fmt: skip
    counts: dict[tuple[str, str], Counter[int]] = defaultdict(Counter)
    labels: dict[int, str] = {}
    m = MentionRow.__table__.c
    for model in models:
        assignments = {int(k): v for k, v in (model.result or {}).get("assignments", {}).items() if v >= 0}
        if not assignments:
            continue
        coherent = {t["id"]: t["label"] for t in model.result.get("topics", []) if not t.get("mixed")}
        labels.update(coherent)
        for mention_id, stage, touchpoint in session.execute(
            select(m.id, m.stage, m.touchpoint).where(m.id.in_(list(assignments)))
        ):
            if assignments[mention_id] in coherent:  # a "Mixed" topic says nothing about a theme
                counts[(stage, touchpoint)][assignments[mention_id]] += 1
    return {
        key: [{"id": t, "label": labels.get(t, str(t)), "mentions": n} for t, n in counter.most_common(5)]
        for key, counter in counts.items()
    }


@dataclasses.dataclass(frozen=True)
class AssignedMention:
    """A mention a topic computation saw, with the topic it was given (-1: none) and its day."""

    mention_id: int
    feedback_id: int
    day: date
    sentiment: float
    topic: int


@dataclasses.dataclass(frozen=True)
class ComputedTopics:
    """One computed slice's topics as the alerts read them: the mentions it modelled within some conditions."""

    slice: str
    polarity: str
    labels: dict[int, str]  # coherent topics only: a "Mixed" topic is never judged
    mentions: list[AssignedMention]


def computed_topics(session: Session, workspace_id: int, conditions: Sequence[Any]) -> list[ComputedTopics]:
    """The computed topics of the irritant and delight slices, with their modelled mentions within `conditions`.

    Per polarity, the slice of every stage (`stage=*`) when it is computed, else the stage slices (disjoint), so
    that a mention is counted once per polarity. Slices of every polarity (`polarity=*`) are left out: their
    topics repeat those of the polarity slices.
    """
    models = session.execute(
        select(TopicModel.slice, TopicModel.result).where(
            TopicModel.workspace_id == workspace_id,
            TopicModel.result != None,  # noqa: E711
        )
    ).all()
    chosen: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for key, result in sorted(models, key=lambda r: r[0]):
        parts = dict(part.split("=", 1) for part in key.split("|"))
        if parts["polarity"] in ("irritant", "delight") and (result or {}).get("assignments"):
            chosen[parts["polarity"]].append((key, result))
    m = MentionRow.__table__.c
    found = []
    for polarity, slices in sorted(chosen.items()):
        broadest = [(key, r) for key, r in slices if key == slice_key(None, polarity)]
        for key, result in broadest or slices:
            labels = {int(t["id"]): t["label"] for t in result.get("topics", []) if not t.get("mixed")}
            assignments = {int(k): int(v) for k, v in result["assignments"].items()}
            rows = session.execute(
                select(m.id, m.feedback_id, m.day, m.sentiment).where(*conditions, m.id.in_(list(assignments)))
            ).all()
            mentions = [AssignedMention(i, f, d, float(s or 0), assignments[i]) for i, f, d, s in rows]
            found.append(ComputedTopics(key, polarity, labels, mentions))
    return found


def _previous_topics(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The topics a recomputation keeps the ids of: the served ones, or those an erasure left (ids and centroids)."""
    return list(result.get("topics") or result.get("erased_topics", []))


def forget_feedback(*, session: Session, workspace_id: int, feedback_id: int, mention_ids: Collection[int]) -> int:
    """Drop every topic result computed with a piece of feedback being erased, and queue it to be computed again.

    A dropped result keeps only its topics' ids and centroids (no words, labels or verbatims), so that the
    recomputation keeps the ids. A computation running now is given back to the queue: it read the feedback,
    and its result is written only under the lease it was claimed with. Return how many slices were requeued.
    """
    erased = {str(i) for i in mention_ids}
    table = TopicModel.__table__
    models = session.execute(
        select(table.c.id, table.c.status, table.c.result).where(table.c.workspace_id == workspace_id).with_for_update()
    ).all()
    requeued = 0
    for model_id, status, result in models:
        result = result or {}
        quoted = {v["feedback_id"] for t in result.get("topics", []) for v in t.get("verbatims", [])}
        used = bool(erased & set(result.get("assignments", {}))) or feedback_id in quoted
        if not used and status != TopicStatus.computing.value:
            continue
        values: dict[str, Any] = {"status": TopicStatus.queued.value, "lease_until": None}
        if used:
            ids = [{"id": t["id"], "words": [], "size": 0, "centroid": t["centroid"]} for t in _previous_topics(result)]
            values["result"] = {"mentions": 0, "erased_topics": ids}
        session.execute(update(TopicModel).where(TopicModel.id == model_id).values(**values))
        requeued += 1
    return requeued


class TopicWorker:
    """Compute queued topic models one at a time (the embedder is shared with analysis through `lock`).

    A computation can run for tens of seconds (BERTopic's UMAP and HDBSCAN), and Python cannot interrupt it:
    `stop()` waits a moment, then gives the job back to the queue (status queued, no lease) so that another
    worker takes it at once, and leaves the thread behind (a daemon: it ends with the process). Whatever that
    thread computes afterwards is dropped, because results are written only under the lease it was claimed with.
    """

    def __init__(self, engine: Engine, pipeline: Pipeline, settings: Settings, lock: threading.Lock) -> None:
        self.engine, self.pipeline, self.settings, self.lock = engine, pipeline, settings, lock
        self.loop = Loop("parcours-topics", self.run_once, max(settings.idle_poll_seconds, 1.0))
        self.current: tuple[int, datetime] | None = None  # the topic model being computed, with its lease

    def claim(self) -> tuple[int, datetime] | None:
        """Lease the oldest queued topic model (or one whose computation died); return its id and lease."""
        now = utcnow()
        until = now + timedelta(minutes=30)  # a killed computation is taken up again after this
        with session_scope(self.engine) as session:
            ids = lease(
                session=session, table=TopicModel, waiting=TopicStatus.queued.value,
                working=TopicStatus.computing.value, order_by=TopicModel.requested_at, limit=1,
                until=until, postgres=is_postgres(self.engine), started_at=now,
            )  # fmt: skip
        return (ids[0], until) if ids else None

    def run_once(self) -> int:
        claimed = self.claim()
        if claimed is None:
            return 0
        self.current = claimed
        model_id, until = claimed
        try:
            self.compute(model_id, until)
        except Exception as error:  # a failed slice is reported, the worker goes on
            logger.exception("topic model %s failed", model_id)
            with session_scope(self.engine) as session:
                session.execute(
                    update(TopicModel)
                    .where(TopicModel.id == model_id, TopicModel.lease_until == until)
                    .values(
                        status=TopicStatus.failed.value,
                        error=masked_reason(f"{type(error).__name__}: {error}"),  # may quote a verbatim
                        finished_at=utcnow(),
                    )
                )
        finally:
            self.current = None
        return 1

    def stop(self, timeout: float) -> None:
        """Stop the loop; a computation not over within `timeout` seconds goes back to the queue."""
        if not self.loop.stop(timeout):
            self.release()

    def release(self) -> None:
        """Give the topic model being computed back to the queue (if this worker still holds its lease)."""
        current = self.current
        if current is None:
            return
        model_id, until = current
        with session_scope(self.engine) as session:
            released = session.execute(
                update(TopicModel)
                .where(
                    TopicModel.id == model_id,
                    TopicModel.status == TopicStatus.computing.value,
                    TopicModel.lease_until == until,
                )
                .values(status=TopicStatus.queued.value, lease_until=None)
            ).rowcount
        if released:
            logger.info("stopping: topic model %s given back to the queue", model_id)

    def compute(self, model_id: int, lease: datetime) -> None:
        """Fit the slice's topics on its most recent mentions and store them with their verbatims.

        Between stages a stop gives the job back; the result is written only while `lease` is still held.
        """
        with session_scope(self.engine) as session:
            model = session.get(TopicModel, model_id)
            assert model is not None
            workspace = session.get(Workspace, model.workspace_id)
            assert workspace is not None
            version = workspace.data_version
            parts = dict(part.split("=", 1) for part in model.slice.split("|"))
            stage, polarity = (None if parts[k] == "*" else parts[k] for k in ("stage", "polarity"))
            m, f = MentionRow.__table__.c, Feedback.__table__.c
            rows = session.execute(
                select(m.id, m.feedback_id, m.start, m.end, m.sentiment, f.text)
                .join(Feedback, f.id == m.feedback_id)
                .where(*_slice_conditions(workspace.id, stage, polarity))
                .order_by(m.id.desc())
                .limit(MAX_MENTIONS)
            ).all()
            previous = [topic_from_dict(t) for t in _previous_topics(model.result or {})]
        texts = [text[start:end] for _, _, start, end, _, text in rows]
        with self.lock:
            vectors = self.pipeline.embedder.encode(texts)
        if self.loop.stopping:
            self.release()
            return
        logger.info("topic model %s: fitting topics on %d mentions", model_id, len(texts))
        result = TopicModeller(self.pipeline.embedder).fit(texts, previous, embeddings=vectors)
        topics = []
        for topic in result.topics:
            members = [i for i, t in enumerate(result.assignments) if t == topic.id]
            sentiment = sum(rows[i][4] for i in members) / len(members)
            verbatims: list[dict[str, Any]] = []
            said: set[str] = set()
            for i in sorted(members, key=lambda i: (i not in topic.representatives, i)):
                if len(verbatims) == 3:
                    break
                if " ".join(texts[i].lower().split()) not in said:  # no repeated wording
                    said.add(" ".join(texts[i].lower().split()))
                    verbatims.append(
                        {"feedback_id": rows[i][1], "text": texts[i], "start": rows[i][2], "end": rows[i][3]}
                    )
            topics.append({
                "id": topic.id, "label": topic.label, "words": topic.words, "size": topic.size,
                "mean_sentiment": round(sentiment, 4), "verbatims": verbatims, "centroid": topic.centroid,
                "representatives": topic.representatives, "coverage": topic.coverage, "mixed": topic.mixed,
            })  # fmt: skip
        stored = {
            "mentions": len(rows),
            "computed_at": utcnow().isoformat() + "Z",
            "topics": topics,
            "assignments": {str(rows[i][0]): t for i, t in enumerate(result.assignments)},
        }
        with session_scope(self.engine) as session:
            written = session.execute(
                update(TopicModel)
                .where(TopicModel.id == model_id, TopicModel.lease_until == lease)  # not given back or taken over
                .values(
                    status=TopicStatus.done.value,
                    result=stored,
                    data_version=version,
                    finished_at=utcnow(),
                    error=None,
                    lease_until=None,
                )  # fmt: skip
            ).rowcount
            if written:
                bump_version(session=session, workspace_ids=[workspace.id])  # themes now carry these topics
