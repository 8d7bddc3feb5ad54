"""What the crash tests (test_restart: the service killed mid-upload; test_scaleout: a worker host killed) share:
the CSV export they upload, and the check that the upload completed exactly once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from app.models import Feedback, SegmentRow


def csv_export(rows: int, bad_every: int, prefix: str) -> bytes:
    """`rows` rows with ids `{prefix}{i}`; every `bad_every`-th one (from the first) has an empty text."""
    lines = ["id,date,avis"]
    for i in range(rows):
        text = "" if i % bad_every == 0 else f"Avis {i} : livraison rapide mais SAV injoignable, dossier {i}"
        lines.append(f"{prefix}{i},2026-0{1 + i % 9}-1{i % 10},{text}")
    return ("\n".join(lines) + "\n").encode()


def assert_done_exactly_once(
    session: Session, done: dict[str, Any], upload_id: int, rows: int, bad_every: int
) -> list[str]:
    """Assert the finished upload `done` (its GET answer) counted every row once, stored each good row once and
    analysed it once (no segment twice); return the stored external ids."""
    bad = len(range(0, rows, bad_every))
    assert (done["rows_read"], done["rows_stored"], done["rows_duplicate"], done["rows_failed"]) == (
        rows, rows - bad, 0, bad,
    )  # fmt: skip
    assert done["rows_analysed"] == rows - bad
    ids: list[str] = list(session.scalars(select(Feedback.external_id).where(Feedback.upload_id == upload_id)).all())
    assert len(ids) == len(set(ids)) == rows - bad  # every row stored once
    statuses = session.execute(
        select(Feedback.status, func.count()).where(Feedback.upload_id == upload_id).group_by(Feedback.status)
    ).all()
    assert dict(statuses) == {"analysed": rows - bad}
    doubled = session.execute(
        select(SegmentRow.feedback_id, SegmentRow.position, func.count())
        .group_by(SegmentRow.feedback_id, SegmentRow.position)
        .having(func.count() > 1)
    ).all()
    assert doubled == []
    return ids
