"""Turn labelled segments into mentions: one mention per moment of the journey."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from nlp.types import Mention, SegmentAnalysis

NO_TOUCHPOINT = "none"
OPPOSITE = {"irritant", "delight"}


@dataclass(frozen=True)
class MentionBuilder:
    """Keep the clauses that tell a moment of the journey and join the clauses that tell the same moment.

    With a model that has the learned heads (`moment_score`, `continues_previous` on each segment): a clause
    is a mention when its moment probability reaches `moment_threshold` (`neutral_moment_threshold` for a
    clause with no polarity: factual clauses must look very much like a moment); an adjacent kept clause joins
    the previous one's mention when the continuation probability reaches `continuation_threshold`, never
    across an irritant/delight change ("Livraison rapide mais le SAV ne répond jamais" stays two). A joined
    mention takes the stage and touchpoint most supported by its clauses (length x probability) and the
    polarity of its length-weighted sentiment.

    Without them (older models) the rules of journey-v1 apply: a neutral clause is kept only when the stage
    head is `min_neutral_stage_score` sure, and adjacent clauses merge when stage and polarity agree.
    """

    min_neutral_stage_score: float = 0.95
    moment_threshold: float = 0.5
    neutral_moment_threshold: float = 0.8
    continuation_threshold: float = 0.5
    polarity_threshold: float = 0.08
    fallback_sentiment: float = 0.3
    fallback_moment: float = 0.15
    fallback_neutral_moment: float = 0.4

    def __call__(self, segments: Sequence[SegmentAnalysis]) -> list[Mention]:
        """Return the mentions of one text's segments, in text order.

        A text whose clauses all fall under the moment thresholds still gets one mention when one of its
        on-topic clauses is clearly polar (|sentiment| >= `fallback_sentiment`) and not clearly context (moment
        probability >= `fallback_moment`), or is neutral but rather a moment (>= `fallback_neutral_moment`):
        "Avoid this airline at all costs." and "J'ai découvert la marque par une pub" are moments however short.
        """
        mentions = self._build(segments)
        if mentions or not segments or segments[0].moment_score is None:
            return mentions
        candidates = [
            s
            for s in segments
            if s.stage is not None
            and s.touchpoint is not None
            and (
                (abs(s.sentiment) >= self.fallback_sentiment and (s.moment_score or 0.0) >= self.fallback_moment)
                or (s.moment_score or 0.0) >= self.fallback_neutral_moment
            )
        ]
        if not candidates:
            return []
        return [self._merge([max(candidates, key=lambda s: (s.moment_score or 0.0) * abs(s.sentiment))])]

    def _build(self, segments: Sequence[SegmentAnalysis]) -> list[Mention]:
        groups: list[list[SegmentAnalysis]] = []
        previous_kept = False
        for segment in segments:
            if not self.is_moment(segment):
                previous_kept = False
                continue
            if previous_kept and self._continues(groups[-1], segment):
                groups[-1].append(segment)
            else:
                groups.append([segment])
            previous_kept = True
        return [self._merge(group) for group in groups]

    def is_moment(self, segment: SegmentAnalysis) -> bool:
        """Whether a clause is kept as (part of) a mention."""
        if segment.stage is None or segment.touchpoint is None:
            return False
        if segment.moment_score is None:
            return segment.polarity != "neutral" or segment.stage_score >= self.min_neutral_stage_score
        if segment.polarity == "neutral":
            return segment.moment_score >= self.neutral_moment_threshold
        return segment.moment_score >= self.moment_threshold

    def _continues(self, group: Sequence[SegmentAnalysis], segment: SegmentAnalysis) -> bool:
        if segment.continues_previous is None:
            return _same_moment(group, segment)
        if {group[-1].polarity, segment.polarity} == OPPOSITE:
            return False
        return segment.continues_previous >= self.continuation_threshold

    def _polarity(self, score: float) -> str:
        if score >= self.polarity_threshold:
            return "delight"
        if score <= -self.polarity_threshold:
            return "irritant"
        return "neutral"

    def _merge(self, group: list[SegmentAnalysis]) -> Mention:
        lengths = [max(s.end - s.start, 1) for s in group]
        total = sum(lengths)
        sentiment = sum(s.sentiment * n for s, n in zip(group, lengths, strict=True)) / total
        strongest = max(group, key=lambda s: (abs(s.sentiment), s.emotion_score))
        if len(group) == 1:
            stage, touchpoint, polarity = group[0].stage, group[0].touchpoint, group[0].polarity
        else:
            stage = _vote([(s.stage, s.stage_score * n) for s, n in zip(group, lengths, strict=True)])
            named = [(s, n) for s, n in zip(group, lengths, strict=True) if s.touchpoint != NO_TOUCHPOINT]
            touchpoint = _vote([(s.touchpoint, s.touchpoint_score * n) for s, n in named]) if named else NO_TOUCHPOINT
            polarity = self._polarity(sentiment) if group[0].moment_score is not None else group[0].polarity
        moment = [s.moment_score if s.moment_score is not None else 1.0 for s in group]
        confidence = sum(m * s.stage_score * n for m, s, n in zip(moment, group, lengths, strict=True)) / total
        assert stage is not None and touchpoint is not None
        return Mention(
            stage=stage,
            touchpoint=touchpoint,
            polarity=polarity,
            sentiment=round(sentiment, 4),
            emotion=strongest.emotion,
            start=group[0].start,
            end=group[-1].end,
            confidence=round(float(confidence), 4),
        )


def _vote(weighted: Sequence[tuple[str | None, float]]) -> str | None:
    totals: dict[str | None, float] = defaultdict(float)
    for label, weight in weighted:
        totals[label] += weight
    return max(totals, key=lambda label: totals[label])


def _touchpoint(group: Sequence[SegmentAnalysis]) -> str | None:
    named = [s.touchpoint for s in group if s.touchpoint != NO_TOUCHPOINT]
    return named[0] if named else group[0].touchpoint


def _same_moment(group: Sequence[SegmentAnalysis], segment: SegmentAnalysis) -> bool:
    last = group[-1]
    if (last.stage, last.polarity) != (segment.stage, segment.polarity):
        return False
    touchpoint = _touchpoint(group)
    return NO_TOUCHPOINT in (touchpoint, segment.touchpoint) or touchpoint == segment.touchpoint
