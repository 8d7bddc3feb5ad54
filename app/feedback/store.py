"""Where API items become stored feedback and `nlp` analyses become database rows (the only such place)."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, bindparam, case, delete, distinct, func, insert, literal, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from app.feedback.privacy import ItemMasker, masked_reason
from app.feedback.records import mention_row, segment_row
from app.models import (
    ALL,
    MEASURES,
    Feedback,
    FeedbackStatus,
    JourneyRollup,
    MentionRow,
    SegmentRow,
    Workspace,
    as_naive_utc,
    utcnow,
)
from app.schemas import FeedbackCreate
from nlp.types import Analysis


def dedup_key(item: FeedbackCreate) -> str:
    """Identify an item for idempotent re-sending: its external_id, else its text, source and date."""
    if item.external_id:
        basis = f"id\x1f{item.external_id}"
    else:
        created = as_naive_utc(item.created_at)
        basis = "\x1f".join(
            ["text", " ".join(item.text.split()), item.source or "", created.isoformat() if created else ""]
        )
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Stored:
    """The outcome of storing one item: its feedback id and whether it was new."""

    id: int
    created: bool


def _insert_ignoring_duplicates(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(Feedback).on_conflict_do_nothing(index_elements=["workspace_id", "dedup_key"])


def _lock_keys_in_order(session: Session, workspace_id: int, keys: Sequence[str]) -> None:
    """PostgreSQL: take a transaction advisory lock per dedup key, in one global order, before inserting.

    Two batches holding the same items in different orders then wait for each other at most once (never each for
    the other), while the rows themselves are inserted in the order the client sent them (so ids follow that order).
    SQLite has one writer at a time and needs nothing."""
    if session.get_bind().dialect.name != "postgresql":
        return

    def lock_id(key: str) -> int:
        return int.from_bytes(hashlib.sha256(f"{workspace_id}:{key}".encode()).digest()[:8], "big", signed=True)

    locks = sorted({lock_id(key) for key in keys})
    session.execute(
        text("SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest(CAST(:locks AS bigint[])) AS k ORDER BY 1) s"),
        {"locks": locks},
    )


def store_feedback(
    *,
    session: Session,
    workspace: Workspace,
    items: Sequence[FeedbackCreate],
    id_secret: bytes,
    upload_id: int | None = None,
) -> list[Stored]:
    """Store items (masked as the workspace asks) as pending feedback; an item already stored is not duplicated.

    Race-free: concurrent requests with the same item both see one row (INSERT .. ON CONFLICT DO NOTHING).
    Deadlock-free: the rows' dedup keys are locked in one global order first (`_lock_keys_in_order`), so two batches
    holding the same items in different orders wait for each other at most once; the workspace row is taken last.
    Rows are inserted in the order they were sent, so ids follow it.
    """
    if not items:
        return []
    # deduplicated on what is stored: masked, a personal external id digested under `id_secret`
    masker = ItemMasker(workspace.mask_pii, secret=id_secret, workspace_id=workspace.id)
    items = [masker.mask_item(item) for item in items]
    keys = [dedup_key(item) for item in items]
    now = utcnow()
    rows: dict[str, dict[str, Any]] = {}
    for item, key in zip(items, keys, strict=True):
        if key in rows:
            continue
        rows[key] = {
            "workspace_id": workspace.id,
            "dedup_key": key,
            "external_id": item.external_id,
            "text": item.text,
            "kind": str(item.kind),
            "source": item.source,
            "channel": item.channel,
            "segment": item.segment,
            "language": item.language,
            "rating": item.rating,
            "rating_scale": item.rating_scale,
            "nps": item.nps,
            "meta": item.metadata,
            "created_at": as_naive_utc(item.created_at),
            "received_at": now,
            "upload_id": upload_id,
            "status": FeedbackStatus.pending.value,
        }
    statement = _insert_ignoring_duplicates(session).returning(Feedback.id, Feedback.dedup_key)
    _lock_keys_in_order(session, workspace.id, list(rows))
    created = {key: feedback_id for feedback_id, key in session.execute(statement, list(rows.values())).all()}
    missing = [key for key in rows if key not in created]
    existing: dict[str, int] = {}
    if missing:
        found = session.execute(
            select(Feedback.id, Feedback.dedup_key).where(
                Feedback.workspace_id == workspace.id, Feedback.dedup_key.in_(missing)
            )
        ).all()
        existing = {key: feedback_id for feedback_id, key in found}
    result, seen = [], set()
    for key in keys:
        new = key in created and key not in seen
        seen.add(key)
        result.append(Stored(created[key] if key in created else existing[key], new))
    if created:
        bump_version(session=session, workspace_ids=[workspace.id])
    return result


def bump_version(*, session: Session, workspace_ids: Sequence[int | None]) -> None:
    """Mark the workspaces' data as changed (analytics ETags and caches depend on it)."""
    session.execute(
        update(Workspace)
        .where(Workspace.id.in_(sorted({i for i in workspace_ids if i is not None})))
        .values(data_version=Workspace.data_version + 1)
    )


def text_sentiment(analysis: Analysis) -> float | None:
    """The text's sentiment: its mentions' scores weighted by length (None when it has no mention)."""
    if not analysis.mentions:
        return None
    lengths = [max(m.end - m.start, 1) for m in analysis.mentions]
    return round(sum(m.sentiment * n for m, n in zip(analysis.mentions, lengths, strict=True)) / sum(lengths), 4)


def _rollup_deltas(mentions: Sequence[dict[str, Any]], sign: int) -> list[dict[str, Any]]:
    """Add mentions up at every rollup level (touchpoint and emotion each as given and as ALL)."""
    cells: dict[tuple[Any, ...], dict[str, Any]] = {}
    feedback: dict[tuple[Any, ...], set[int]] = defaultdict(set)
    for m in mentions:
        for touchpoint in (m["touchpoint"], ALL):
            for emotion in (m["emotion"], ALL):
                key = (m["workspace_id"], m["day"], m["stage"], touchpoint, emotion)
                cell = cells.setdefault(
                    key,
                    dict(zip(_ROLLUP_KEY, key, strict=True)) | {name: kind() for name, kind in MEASURES.items()},
                )  # fmt: skip
                cell["mentions"] += sign
                cell["sentiment_sum"] += sign * m["sentiment"]
                cell["sentiment_sq"] += sign * m["sentiment"] ** 2
                cell[m["polarity"]] += sign
                feedback[key].add(m["feedback_id"])
    for key, cell in cells.items():
        cell["feedback"] = sign * len(feedback[key])
    return list(cells.values())


_ROLLUP_KEY = ("workspace_id", "day", "stage", "touchpoint", "emotion")
_ROLLUP_MEASURES = tuple(MEASURES)


def update_rollup(*, session: Session, mentions: Sequence[dict[str, Any]], sign: int = 1) -> None:
    """Add (sign=1) or remove (sign=-1) mentions from the journey rollup, in the caller's transaction."""
    deltas = _rollup_deltas(mentions, sign)
    if not deltas:
        return
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    table = JourneyRollup.__table__
    statement = module.insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(_ROLLUP_KEY),
        set_={m: table.c[m] + statement.excluded[m] for m in _ROLLUP_MEASURES},
    )
    # in key order: the analysis worker and erasures touching the same cells never lock them in opposite orders
    session.execute(statement, sorted(deltas, key=lambda d: tuple(str(d[k]) for k in _ROLLUP_KEY)))
    if sign < 0:
        session.execute(delete(table).where(table.c.mentions <= 0))


def mention_attributes(feedback: Feedback | Any) -> dict[str, Any]:
    """The feedback attributes copied onto each of its mentions (analytics filter on them)."""
    when = feedback.created_at or feedback.received_at
    rating = feedback.rating * 5.0 / (feedback.rating_scale or 5.0) if feedback.rating is not None else None
    return {
        "day": when.date(),
        "kind": feedback.kind,
        "source": feedback.source,
        "channel": feedback.channel,
        "segment": feedback.segment,
        "language": feedback.language,
        "rating": rating,
        "nps": feedback.nps,
    }


def bulk_insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows: COPY on PostgreSQL (several times faster than batched INSERTs), else executemany."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(table.insert(), rows)  # Core executemany: no ORM work per row
        return
    names = list(rows[0])
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    quoted = ", ".join(f'"{name}"' for name in names)
    raw = connection.connection.driver_connection  # the psycopg connection, inside this transaction
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([json.dumps(row[n]) if n in json_columns else row[n] for n in names])


def store_analyses(*, session: Session, analyses: Sequence[Analysis], model: str, lease: datetime) -> list[int]:
    """Write segments, mentions and rollup of analysed feedback and mark it analysed; return the ids written.

    Only feedback still claimed with `lease` is written: feedback deleted meanwhile, or taken over by another
    worker after this lease expired, is skipped (never resurrected, never counted twice).
    """
    ids = [int(a.id) for a in analyses]
    table = Feedback.__table__
    columns = ["id", "workspace_id", "language", "created_at", "received_at", "kind", "source", "channel"]
    columns += ["segment", "rating", "rating_scale", "nps"]
    rows = session.execute(
        select(*(table.c[c] for c in columns))
        .where(
            table.c.id.in_(ids),
            table.c.status == FeedbackStatus.analysing.value,
            table.c.lease_until == lease,
        )
        .order_by(table.c.id)  # locked in id order, then rollup rows in key order, the workspace last
        .with_for_update()
    )
    feedback_of = {f.id: f for f in rows}
    kept = [a for a in analyses if int(a.id) in feedback_of]
    if not kept:
        return []
    segments, mentions, updates = [], [], []
    now = utcnow()
    for analysis in kept:
        feedback = feedback_of[int(analysis.id)]
        language = feedback.language or analysis.language
        attributes = mention_attributes(feedback) | {"language": language}
        placed = {"feedback_id": feedback.id, "workspace_id": feedback.workspace_id}
        segments += [segment_row(s, position, **placed) for position, s in enumerate(analysis.segments)]
        mentions += [mention_row(m, position, **placed, **attributes) for position, m in enumerate(analysis.mentions)]
        updates.append(
            {
                "id": feedback.id,
                "status": FeedbackStatus.analysed.value,
                "language": language,
                "sentiment": text_sentiment(analysis),
                "analysed_at": now,
                "lease_until": None,
                "model": model,
                "error": None,
            }
        )
    bulk_insert(session, SegmentRow.__table__, segments)
    if mentions:
        bulk_insert(session, MentionRow.__table__, mentions)
        update_rollup(session=session, mentions=mentions)
    session.execute(
        table.update().where(table.c.id == bindparam("feedback_id")),
        [{"feedback_id": u["id"], **{k: v for k, v in u.items() if k != "id"}} for u in updates],
    )
    bump_version(session=session, workspace_ids=[f.workspace_id for f in feedback_of.values()])
    return [u["id"] for u in updates]


def erase_feedback(*, session: Session, feedback: Feedback) -> list[int]:
    """Delete a piece of feedback with its segments and mentions, and take its mentions out of the rollup.

    Return the ids of the mentions deleted (topic results name them: see app.feedback.erasure).
    """
    # The feedback row first, as the analysis worker locks it first: an erasure waits for an analysis being
    # stored (then takes its mentions out too), and of two erasures at once the second finds nothing to do
    # (its mentions are never taken out of the rollup twice).
    if session.scalar(select(Feedback.id).where(Feedback.id == feedback.id).with_for_update()) is None:
        return []
    table = MentionRow.__table__
    mentions = [dict(row._mapping) for row in session.execute(select(table).where(table.c.feedback_id == feedback.id))]
    update_rollup(session=session, mentions=mentions, sign=-1)
    session.execute(delete(SegmentRow).where(SegmentRow.feedback_id == feedback.id))
    session.execute(delete(MentionRow).where(MentionRow.feedback_id == feedback.id))
    session.execute(delete(Feedback).where(Feedback.id == feedback.id))
    bump_version(session=session, workspace_ids=[feedback.workspace_id])
    return [int(m["id"]) for m in mentions]


def mark_failed(*, session: Session, feedback_id: int, error: str) -> None:
    """Record that a piece of feedback could not be analysed (it is not retried).

    The message is stored with every kind of personal data masked and cut to 2,000 characters: an exception's
    message may quote the text it failed on, whatever the workspace's `mask_pii`.
    """
    session.execute(
        update(Feedback)
        .where(Feedback.id == feedback_id)
        .values(status=FeedbackStatus.failed.value, error=masked_reason(error), lease_until=None)
    )


def rebuild_rollup(*, session: Session, workspace_id: int) -> None:
    """Recompute a workspace's journey rollup from its mentions (for imports that bypass the analysis worker)."""
    rollup, m = JourneyRollup.__table__, MentionRow.__table__.c
    session.execute(delete(rollup).where(rollup.c.workspace_id == workspace_id))
    polarity = [func.sum(case((m.polarity == p, 1), else_=0)) for p in ("irritant", "delight", "neutral")]
    for by_touchpoint in (True, False):
        for by_emotion in (True, False):
            touchpoint = m.touchpoint if by_touchpoint else literal(ALL)
            emotion = m.emotion if by_emotion else literal(ALL)
            groups = [m.workspace_id, m.day, m.stage, *([m.touchpoint] * by_touchpoint), *([m.emotion] * by_emotion)]
            rows = (
                select(
                    m.workspace_id,
                    m.day,
                    m.stage,
                    touchpoint,
                    emotion,
                    func.count(),
                    func.count(distinct(m.feedback_id)),
                    func.sum(m.sentiment),
                    func.sum(m.sentiment * m.sentiment),
                    *polarity,
                )  # fmt: skip
                .where(m.workspace_id == workspace_id)
                .group_by(*groups)
            )
            session.execute(insert(rollup).from_select([*_ROLLUP_KEY, *_ROLLUP_MEASURES], rows))
