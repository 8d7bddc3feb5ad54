"""Typed records passed between pipeline stages and returned to callers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Segment:
    """A clause of one input text: `start`/`end` are offsets into that text, `sentence` the rank of its sentence."""

    doc_index: int
    text: str
    start: int
    end: int
    language: str
    sentence: int = 0


@dataclass(frozen=True)
class Scored:
    """One predicted label with its confidence in [0, 1]."""

    label: str
    score: float


@dataclass(frozen=True)
class Evidence:
    """A word or phrase that carried the segment's sentiment: offsets into the original text, signed weight."""

    text: str
    start: int
    end: int
    weight: float


@dataclass(frozen=True)
class SegmentAnalysis:
    """A segment with every label the pipeline gives it.

    `stage` and `touchpoint` are None when the segment is not about the customer journey. `moment_score` is the
    probability that the clause tells a moment of the journey (not context or a fragment); `continues_previous`
    the probability that it goes on telling the previous clause's moment (None for a text's first clause, or
    with a model that has no such heads).
    """

    text: str
    start: int
    end: int
    stage: str | None
    stage_score: float
    touchpoint: str | None
    touchpoint_score: float
    sentiment: float
    polarity: str
    emotion: str
    emotion_score: float
    evidence: list[Evidence] = field(default_factory=list)
    moment_score: float | None = None
    continues_previous: float | None = None


@dataclass(frozen=True)
class Mention:
    """One moment of the journey: one or more adjacent segments told as one moment.

    `confidence` in [0, 1]: how sure the model is that this is a moment with these stage and polarity labels
    (the clauses' moment probability times their stage probability, averaged by length).
    """

    stage: str
    touchpoint: str
    polarity: str
    sentiment: float
    emotion: str
    start: int
    end: int
    confidence: float = 1.0


@dataclass(frozen=True)
class Analysis:
    """The analysis of one input text."""

    id: str
    language: str
    segments: list[SegmentAnalysis] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form written by `parcours analyze`."""
        return asdict(self)
