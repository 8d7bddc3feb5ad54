"""Turn labelled segments into mentions: one mention per moment of the journey."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nlp.types import Mention, SegmentAnalysis

NO_TOUCHPOINT = "none"


@dataclass(frozen=True)
class MentionBuilder:
    """Keep journey-related segments and merge adjacent ones about the same moment.

    A segment with no stage (off-topic) is never a mention. A neutral segment is kept only when the
    stage head is at least `min_neutral_stage_score` sure of it: factual, unsure clauses ("En 4 ans
    j'ai eu 1 accident") are context, not moments of the journey. Adjacent kept segments with the
    same stage and polarity merge into one mention spanning them when their touchpoints agree or one of
    them names none ("Impossible de joindre le SAV au téléphone, personne ne décroche": the second clause
    continues the phone moment).
    """

    min_neutral_stage_score: float = 0.95

    def __call__(self, segments: Sequence[SegmentAnalysis]) -> list[Mention]:
        """Return the mentions of one text's segments, in text order."""
        groups: list[list[SegmentAnalysis]] = []
        previous_kept = False
        for segment in segments:
            if not self._is_mention(segment):
                previous_kept = False
                continue
            if previous_kept and _same_moment(groups[-1], segment):
                groups[-1].append(segment)
            else:
                groups.append([segment])
            previous_kept = True
        return [_merge(group) for group in groups]

    def _is_mention(self, segment: SegmentAnalysis) -> bool:
        if segment.stage is None or segment.touchpoint is None:
            return False
        return segment.polarity != "neutral" or segment.stage_score >= self.min_neutral_stage_score


def _touchpoint(group: Sequence[SegmentAnalysis]) -> str | None:
    named = [s.touchpoint for s in group if s.touchpoint != NO_TOUCHPOINT]
    return named[0] if named else group[0].touchpoint


def _same_moment(group: Sequence[SegmentAnalysis], segment: SegmentAnalysis) -> bool:
    last = group[-1]
    if (last.stage, last.polarity) != (segment.stage, segment.polarity):
        return False
    touchpoint = _touchpoint(group)
    return NO_TOUCHPOINT in (touchpoint, segment.touchpoint) or touchpoint == segment.touchpoint


def _merge(group: list[SegmentAnalysis]) -> Mention:
    lengths = [max(s.end - s.start, 1) for s in group]
    sentiment = sum(s.sentiment * n for s, n in zip(group, lengths, strict=True)) / sum(lengths)
    strongest = max(group, key=lambda s: (abs(s.sentiment), s.emotion_score))
    first, touchpoint = group[0], _touchpoint(group)
    assert first.stage is not None and touchpoint is not None
    return Mention(
        stage=first.stage,
        touchpoint=touchpoint,
        polarity=first.polarity,
        sentiment=round(sentiment, 4),
        emotion=strongest.emotion,
        start=first.start,
        end=group[-1].end,
    )
