"""Corrections stored and applied: a feedback's mention rows and their rollup cells change in the correcting
transaction, so every figure (curve, matrix, themes, KPIs) shows the correction at once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlmodel import Session

from app.core.errors import AppError, NotFound
from app.corrections.apply import LABELS, CorrectionAction, apply_correction
from app.feedback.store import bump_version, mention_attributes, update_rollup
from app.models import Correction, Feedback, FeedbackStatus, MentionRow, SegmentRow

_COPIED = ("workspace_id", "feedback_id", "day", "kind", "source", "channel", "segment", "language", "rating", "nps")
_CHANGING = ("position", "stage", "touchpoint", "polarity", "sentiment", "emotion", "start", "end", "confidence")


def feedback_sentiment(mentions: Sequence[dict[str, Any]]) -> float | None:
    """The text's sentiment: its mentions' scores weighted by length (as `app.feedback.store.text_sentiment`)."""
    if not mentions:
        return None
    lengths = [max(m["end"] - m["start"], 1) for m in mentions]
    return round(sum(m["sentiment"] * n for m, n in zip(mentions, lengths, strict=True)) / sum(lengths), 4)


def corrected(
    mentions: Sequence[dict[str, Any]], segments: Sequence[Any], corrections: Sequence[Correction]
) -> list[dict[str, Any]]:
    """Mention rows with `corrections` applied in order (a re-analysis re-applies them on fresh mentions)."""
    result = list(mentions)
    for c in corrections:
        result = apply_correction(result, segments, action=c.action, start=c.start, end=c.end, before=c.before,
                                  after=c.after)  # fmt: skip
    return result


def replace_mentions(
    *, session: Session, feedback: Feedback | Any, old: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]]
) -> None:
    """Write a feedback's new mentions over its old ones (rows kept by id where they stay) and move its rollup
    contribution from the old to the new, in the caller's transaction. The whole feedback leaves the rollup and
    comes back, so each cell's count of distinct feedback stays exact."""
    attributes = mention_attributes(feedback) | {"language": feedback.language}
    placed = {"workspace_id": feedback.workspace_id, "feedback_id": feedback.id}
    rows = [
        {**{k: m[k] for k in _CHANGING if k in m}, "position": position, **placed, **attributes}
        | {k: m[k] for k in ("id",) if m.get("id") is not None}
        for position, m in enumerate(new)
    ]
    kept = {m["id"] for m in rows if "id" in m}
    table = MentionRow.__table__
    update_rollup(session=session, mentions=old, sign=-1)
    gone = [m["id"] for m in old if m.get("id") is not None and m["id"] not in kept]
    if gone:
        session.execute(delete(table).where(table.c.id.in_(gone)))
    for row in rows:
        if "id" in row:
            session.execute(update(table).where(table.c.id == row["id"]).values(**{k: row[k] for k in _CHANGING}))
    added = [{k: v for k, v in row.items() if k != "id"} for row in rows if "id" not in row]
    if added:
        session.execute(insert(table), [{**a, "confidence": a.get("confidence")} for a in added])
    update_rollup(session=session, mentions=rows, sign=1)
    session.execute(update(Feedback).where(Feedback.id == feedback.id).values(sentiment=feedback_sentiment(rows)))
    bump_version(session=session, workspace_ids=[feedback.workspace_id])


def _mention_rows(session: Session, feedback_id: int) -> list[dict[str, Any]]:
    table = MentionRow.__table__
    statement = select(table).where(table.c.feedback_id == feedback_id).order_by(table.c.position)
    return [dict(row._mapping) for row in session.execute(statement)]


def _segments(session: Session, feedback_id: int) -> list[Any]:
    table = SegmentRow.__table__
    return list(session.execute(select(table).where(table.c.feedback_id == feedback_id).order_by(table.c.position)))


def correct(
    *,
    session: Session,
    workspace_id: int,
    feedback_id: int,
    action: CorrectionAction,
    mention: int | None,
    span: tuple[int, int] | None,
    labels: dict[str, str],
    author: str | None,
) -> tuple[Correction, list[dict[str, Any]]]:
    """Store a correction of one analysed feedback and apply it at once; return it with the feedback's mentions.

    `mention` (the mention's rank, as GET /v1/feedback/{id} lists them) for set and delete; `span` (start, end)
    for add. The feedback row is locked first, as the analysis and re-analysis workers lock it.
    """
    feedback = session.execute(
        select(Feedback)
        .where(Feedback.id == feedback_id, Feedback.workspace_id == workspace_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if feedback is None:
        raise NotFound("feedback", feedback_id)
    if feedback.status != FeedbackStatus.analysed:
        raise AppError(409, "not_analysed", f"Feedback {feedback_id} is {feedback.status}: correct it once analysed")
    old = _mention_rows(session, feedback_id)
    if action == CorrectionAction.add:
        assert span is not None
        start, end = span
        if not 0 <= start < end <= len(feedback.text):
            raise AppError(422, "invalid_span", f"start and end must satisfy 0 <= start < end <= {len(feedback.text)}")
        before = None
    else:
        if mention is None or not 0 <= mention < len(old):
            raise AppError(
                404,
                "mention_not_found",
                f"Feedback {feedback_id} has {len(old)} mention(s): 'mention' is 0 to {len(old) - 1}",
            )
        start, end = old[mention]["start"], old[mention]["end"]
        before = {k: old[mention][k] for k in LABELS}
    after = None if action == CorrectionAction.delete else labels
    correction = Correction(
        workspace_id=workspace_id, feedback_id=feedback_id, action=action.value, start=start, end=end, before=before,
        after=after, author=author,
    )  # fmt: skip
    new = corrected(old, _segments(session, feedback_id), [correction])
    replace_mentions(session=session, feedback=feedback, old=old, new=new)
    session.add(correction)
    session.flush()
    return correction, _mention_rows(session, feedback_id)


def corrections_of(*, session: Session, feedback_ids: Sequence[int]) -> dict[int, list[Correction]]:
    """The corrections of each feedback, oldest first."""
    found: dict[int, list[Correction]] = {i: [] for i in feedback_ids}
    statement = select(Correction).where(Correction.feedback_id.in_(list(feedback_ids))).order_by(Correction.id)
    for c in session.scalars(statement):
        found[c.feedback_id].append(c)
    return found


def export_rows(*, session: Session, workspace_id: int, batch: int = 1000) -> Iterator[tuple[Correction, Feedback]]:
    """Every correction of the workspace with its feedback, oldest first, read `batch` at a time."""
    last = 0
    while True:
        rows = session.execute(
            select(Correction, Feedback)
            .join(Feedback, Feedback.id == Correction.feedback_id)
            .where(Correction.workspace_id == workspace_id, Correction.id > last)
            .order_by(Correction.id)
            .limit(batch)
        ).all()
        yield from ((c, f) for c, f in rows)
        if len(rows) < batch:
            return
        last = rows[-1][0].id
