"""Segments to mentions: which segments are moments of the journey, and which merge."""

from __future__ import annotations

from nlp.mentions import MentionBuilder
from nlp.types import SegmentAnalysis


def segment(
    start: int, stage: str | None, touchpoint: str | None, polarity: str, score: float = 0.9
) -> SegmentAnalysis:
    return SegmentAnalysis(
        text="x" * 10,
        start=start,
        end=start + 10,
        stage=stage,
        stage_score=score,
        touchpoint=touchpoint,
        touchpoint_score=0.9,
        sentiment={"irritant": -0.6, "delight": 0.6, "neutral": 0.0}[polarity],
        polarity=polarity,
        emotion="none",
        emotion_score=0.5,
    )


def test_a_clause_without_touchpoint_continues_the_moment_before_it() -> None:
    mentions = MentionBuilder()(
        [segment(0, "support", "phone", "irritant"), segment(12, "support", "none", "irritant")]
    )
    assert [(m.stage, m.touchpoint, m.start, m.end) for m in mentions] == [("support", "phone", 0, 22)]


def test_different_touchpoints_or_polarities_stay_separate_mentions() -> None:
    mentions = MentionBuilder()(
        [
            segment(0, "support", "phone", "irritant"),
            segment(12, "support", "email_mail", "irritant"),
            segment(24, "support", "email_mail", "delight"),
        ]
    )
    assert [(m.touchpoint, m.polarity) for m in mentions] == [
        ("phone", "irritant"),
        ("email_mail", "irritant"),
        ("email_mail", "delight"),
    ]


def test_off_topic_and_unsure_neutral_segments_are_not_mentions() -> None:
    builder = MentionBuilder(min_neutral_stage_score=0.8)
    mentions = builder(
        [
            segment(0, None, None, "irritant"),
            segment(12, "usage", "product", "neutral", score=0.5),
            segment(24, "usage", "product", "neutral", score=0.95),
        ]
    )
    assert [(m.start, m.polarity) for m in mentions] == [(24, "neutral")]
