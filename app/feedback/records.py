"""The one mapping between the analysis records of `nlp` (SegmentAnalysis, Mention), the stored rows (SegmentRow,
MentionRow) and the public shapes (SegmentPublic, MentionPublic).

A field of an `nlp` record is stored and shown under the same name; the lists below are those names, and
`tests/app/test_records.py` checks that they are exactly what the three sides share, so a field added to a
record cannot be dropped on the way silently.
"""

from __future__ import annotations

from typing import Any

from app.models import MentionRow, SegmentRow
from app.schemas import EvidencePublic, MentionPublic, SegmentPublic
from nlp.types import Mention, SegmentAnalysis

SEGMENT_FIELDS = (
    "start", "end", "stage", "stage_score", "touchpoint", "touchpoint_score", "sentiment", "polarity", "emotion",
    "emotion_score",
)  # fmt: skip
MENTION_FIELDS = ("stage", "touchpoint", "polarity", "sentiment", "emotion", "start", "end", "confidence")


def segment_row(segment: SegmentAnalysis, position: int, **placed: Any) -> dict[str, Any]:
    """The row of one analysed clause (`placed`: its feedback_id and workspace_id)."""
    return {
        **placed,
        "position": position,
        **{name: getattr(segment, name) for name in SEGMENT_FIELDS},
        "evidence": [e.__dict__ for e in segment.evidence],
    }


def mention_row(mention: Mention, position: int, **placed: Any) -> dict[str, Any]:
    """The row of one mention (`placed`: its feedback_id, workspace_id and the feedback's filterable attributes)."""
    return {**placed, "position": position, **{name: getattr(mention, name) for name in MENTION_FIELDS}}


def segment_public(row: SegmentRow | Any, text: str) -> SegmentPublic:
    """A stored clause as the API shows it, with its words and evidence."""
    return SegmentPublic(
        text=text[row.start : row.end],
        evidence=[EvidencePublic(**e) for e in row.evidence],
        **{name: getattr(row, name) for name in SEGMENT_FIELDS},
    )


def mention_public(row: MentionRow | Any, text: str) -> MentionPublic:
    """A stored mention as the API shows it, with its words."""
    return MentionPublic(text=text[row.start : row.end], **{name: getattr(row, name) for name in MENTION_FIELDS})
