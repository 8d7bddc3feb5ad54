"""Where API items become stored feedback and `nlp` analyses become database rows (the only such place)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from app.models import Feedback, FeedbackStatus, MentionRow, SegmentRow, Workspace, as_naive_utc, utcnow
from app.schemas import FeedbackCreate
from nlp.pii import PiiMasker
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


def store_feedback(
    *, session: Session, workspace: Workspace, items: Sequence[FeedbackCreate], upload_id: int | None = None
) -> list[Stored]:
    """Store items (masked as the workspace asks) as pending feedback; an item already stored is not duplicated.

    Race-free: concurrent requests with the same item both see one row (INSERT .. ON CONFLICT DO NOTHING).
    """
    if not items:
        return []
    masker = PiiMasker(workspace.mask_pii) if workspace.mask_pii else None
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
            "text": masker.mask(item.text) if masker else item.text,
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


def store_analyses(
    *, session: Session, analyses: Sequence[Analysis], model: str, claimed_until: dict[int, datetime] | None = None
) -> list[int]:
    """Write segments and mentions of analysed feedback and mark it analysed; return the ids written.

    Feedback deleted while it was being analysed is skipped (its analysis is dropped, not resurrected).
    """
    ids = [int(a.id) for a in analyses]
    rows = session.execute(
        select(Feedback.id, Feedback.workspace_id).where(Feedback.id.in_(ids)).with_for_update()
    ).all()
    workspace_of = dict(rows)
    kept = [a for a in analyses if int(a.id) in workspace_of]
    if not kept:
        return []
    kept_ids = [int(a.id) for a in kept]
    session.execute(delete(SegmentRow).where(SegmentRow.feedback_id.in_(kept_ids)))
    session.execute(delete(MentionRow).where(MentionRow.feedback_id.in_(kept_ids)))
    segments, mentions = [], []
    for analysis in kept:
        feedback_id = int(analysis.id)
        workspace_id = workspace_of[feedback_id]
        for position, s in enumerate(analysis.segments):
            segments.append(
                {
                    "feedback_id": feedback_id,
                    "workspace_id": workspace_id,
                    "position": position,
                    "start": s.start,
                    "end": s.end,
                    "stage": s.stage,
                    "stage_score": s.stage_score,
                    "touchpoint": s.touchpoint,
                    "touchpoint_score": s.touchpoint_score,
                    "sentiment": s.sentiment,
                    "polarity": s.polarity,
                    "emotion": s.emotion,
                    "emotion_score": s.emotion_score,
                    "evidence": [e.__dict__ for e in s.evidence],
                }
            )
        for position, m in enumerate(analysis.mentions):
            mentions.append(
                {
                    "feedback_id": feedback_id,
                    "workspace_id": workspace_id,
                    "position": position,
                    "stage": m.stage,
                    "touchpoint": m.touchpoint,
                    "polarity": m.polarity,
                    "sentiment": m.sentiment,
                    "emotion": m.emotion,
                    "start": m.start,
                    "end": m.end,
                }
            )
    if segments:
        session.execute(insert(SegmentRow), segments)
    if mentions:
        session.execute(insert(MentionRow), mentions)
    now = utcnow()
    for analysis in kept:
        session.execute(
            update(Feedback)
            .where(Feedback.id == int(analysis.id))
            .values(
                status=FeedbackStatus.analysed.value,
                language=analysis.language,
                sentiment=text_sentiment(analysis),
                analysed_at=now,
                lease_until=None,
                model=model,
                error=None,
            )
        )
    bump_version(session=session, workspace_ids=list(workspace_of.values()))
    return kept_ids


def mark_failed(*, session: Session, feedback_id: int, error: str) -> None:
    """Record that a piece of feedback could not be analysed (it is not retried)."""
    session.execute(
        update(Feedback)
        .where(Feedback.id == feedback_id)
        .values(status=FeedbackStatus.failed.value, error=error[:2000], lease_until=None)
    )
