"""The mapping between nlp's analysis records, the stored rows and the public shapes stays complete."""

from __future__ import annotations

import dataclasses

from app.feedback.records import (
    MENTION_FIELDS,
    SEGMENT_FIELDS,
    mention_public,
    mention_row,
    segment_public,
    segment_row,
)
from app.models import MentionRow, SegmentRow
from app.schemas import MentionPublic, SegmentPublic
from nlp.types import Evidence, Mention, SegmentAnalysis


def shared(record: type, row: type, public: type) -> set[str]:
    return {f.name for f in dataclasses.fields(record)} & set(row.model_fields) & set(public.model_fields)


def test_every_field_the_three_sides_share_is_mapped() -> None:
    assert set(MENTION_FIELDS) == shared(Mention, MentionRow, MentionPublic)
    assert set(SEGMENT_FIELDS) | {"evidence"} == shared(SegmentAnalysis, SegmentRow, SegmentPublic)


def test_a_mention_and_a_clause_come_back_as_they_were_analysed() -> None:
    text = "Livraison rapide mais le SAV ne répond jamais"
    mention = Mention("support", "none", "irritant", -0.8, "anger", 17, 45, confidence=0.73)
    clause = SegmentAnalysis(
        text=text[17:45], start=17, end=45, stage="support", stage_score=0.9, touchpoint="none",
        touchpoint_score=0.6, sentiment=-0.8, polarity="irritant", emotion="anger", emotion_score=0.5,
        evidence=[Evidence("jamais", 39, 45, -0.8)],
    )  # fmt: skip
    row = MentionRow(**mention_row(mention, 0, feedback_id=1, workspace_id=1, day="2026-05-01"))
    shown = mention_public(row, text)
    assert shown.text == "mais le SAV ne répond jamais"
    assert {name: getattr(shown, name) for name in MENTION_FIELDS} == {
        name: getattr(mention, name) for name in MENTION_FIELDS
    }
    stored = SegmentRow(**segment_row(clause, 0, feedback_id=1, workspace_id=1))
    public = segment_public(stored, text)
    assert public.text == clause.text and public.evidence[0].text == "jamais"
    assert {name: getattr(public, name) for name in SEGMENT_FIELDS} == {
        name: getattr(clause, name) for name in SEGMENT_FIELDS
    }
