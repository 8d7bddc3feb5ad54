"""The team's clause-level annotations of real feedback (`data/annotated/`): read, locate, validate.

Each record quotes its mentions' words; reading a file locates every quote in the text (in text order) and
turns it into a span, so the files stay readable and hand-editable. See data/ANNOTATION.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ANNOTATED_ROOT = Path(__file__).resolve().parent.parent / "data" / "annotated"

STAGES = ("awareness", "consideration", "purchase", "onboarding", "usage", "support", "retention", "advocacy")
TOUCHPOINTS = (
    "website",
    "mobile_app",
    "store",
    "phone",
    "email_mail",
    "chat",
    "social_media",
    "advertising",
    "delivery",
    "billing",
    "product",
    "staff",
    "none",
)
POLARITIES = ("irritant", "delight", "neutral")
EMOTIONS = ("joy", "trust", "surprise", "anger", "frustration", "sadness", "fear", "none")
REGISTERS = ("review", "survey", "tweet", "complaint", "chat", "app_review")
INDUSTRIES = (
    "insurance",
    "banking",
    "telecom",
    "retail",
    "ecommerce",
    "travel",
    "hotels",
    "utilities",
    "restaurants",
    "other",
)


class AnnotationError(ValueError):
    """A record that does not follow data/ANNOTATION.md; the message names the file, line and field."""


@dataclass(frozen=True)
class AnnotatedMention:
    """One annotated moment: labels and the span of its quote in the text."""

    stage: str
    touchpoint: str
    polarity: str
    emotion: str
    start: int
    end: int

    def as_dict(self) -> dict[str, Any]:
        """Return the mention in journey_dev's shape (`span` = [start, end])."""
        return {
            "stage": self.stage,
            "touchpoint": self.touchpoint,
            "polarity": self.polarity,
            "emotion": self.emotion,
            "span": [self.start, self.end],
        }


@dataclass(frozen=True)
class AnnotatedText:
    """One annotated text with its located mentions."""

    id: str
    text: str
    lang: str
    register: str
    industry: str
    source: str
    rating: float | None = None
    version_of: str | None = None
    annotator: str = "a"
    mentions: list[AnnotatedMention] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return the text in journey_dev's shape, for the evaluation code."""
        return {
            "id": self.id,
            "text": self.text,
            "lang": self.lang,
            "rating": self.rating,
            "source": self.source,
            "register": self.register,
            "industry": self.industry,
            "mentions": [m.as_dict() for m in self.mentions],
        }


def _require(row: dict[str, Any], key: str, allowed: Sequence[str] | None, where: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value:
        raise AnnotationError(f"{where}: field '{key}' is missing or not a string")
    if allowed is not None and value not in allowed:
        raise AnnotationError(f"{where}: field '{key}' is '{value}', not one of {', '.join(allowed)}")
    return value


def parse_record(row: dict[str, Any], where: str) -> AnnotatedText:
    """Validate one record and locate its quotes; raise AnnotationError naming the field."""
    text = _require(row, "text", None, where)
    mentions = []
    cursor = 0
    raw_mentions = row.get("mentions")
    if not isinstance(raw_mentions, list):
        raise AnnotationError(f"{where}: field 'mentions' must be a list")
    for index, raw in enumerate(raw_mentions):
        at = f"{where} mention {index}"
        if not isinstance(raw, dict):
            raise AnnotationError(f"{at}: not an object")
        quote = _require(raw, "quote", None, at).strip()
        start = text.find(quote, cursor)
        if start < 0:
            start = text.find(quote)
        if start < 0:
            raise AnnotationError(f"{at}: quote {quote[:60]!r} is not in the text")
        end = start + len(quote)
        cursor = start + 1
        mentions.append(
            AnnotatedMention(
                stage=_require(raw, "stage", STAGES, at),
                touchpoint=_require(raw, "touchpoint", TOUCHPOINTS, at),
                polarity=_require(raw, "polarity", POLARITIES, at),
                emotion=str(raw["emotion"]) if raw.get("emotion") in EMOTIONS else "none",
                start=start,
                end=end,
            )
        )
    rating = row.get("rating")
    return AnnotatedText(
        id=_require(row, "id", None, where),
        text=text,
        lang=_require(row, "lang", ("fr", "en"), where),
        register=_require(row, "register", REGISTERS, where),
        industry=_require(row, "industry", INDUSTRIES, where),
        source=_require(row, "source", None, where),
        rating=float(rating) if isinstance(rating, int | float) else None,
        version_of=row.get("version_of") or None,
        annotator=str(row.get("annotator") or "a"),
        mentions=sorted(mentions, key=lambda m: (m.start, m.end)),
    )


def read_annotations(path: Path) -> tuple[list[AnnotatedText], list[str]]:
    """Read one JSONL file; return the valid records and one message per invalid line (nothing raised)."""
    records, errors = [], []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise AnnotationError(f"{where}: not a JSON object")
            record = parse_record(row, where)
        except json.JSONDecodeError as error:
            errors.append(f"{where}: invalid JSON ({error.msg})")
            continue
        except AnnotationError as error:
            errors.append(str(error))
            continue
        if record.id in seen:
            errors.append(f"{where}: duplicate id {record.id}")
            continue
        seen.add(record.id)
        records.append(record)
    return records, errors


def load_annotated(kind: str = "train", root: Path = ANNOTATED_ROOT) -> list[AnnotatedText]:
    """Read every valid record under `data/annotated/<kind>/` (train, dev2 or agreement), sorted by id."""
    records: list[AnnotatedText] = []
    for path in sorted((root / kind).glob("*.jsonl")):
        records.extend(read_annotations(path)[0])
    return sorted(records, key=lambda r: r.id)


def texts_of(records: Iterable[AnnotatedText]) -> set[str]:
    """Normalised texts (and the source ids they were written from), to keep evaluation texts out of training."""
    keys: set[str] = set()
    for record in records:
        keys.add(" ".join(record.text.lower().split()))
        keys.add(f"{record.source}:{record.version_of or record.id}")
    return keys
