"""How a correction changes a feedback's mentions: one pure function, used when a person corrects a mention and
again on the fresh mentions of every re-analysis (a mention is found again by its text span)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

LABELS = ("stage", "touchpoint", "polarity")
MIN_POLAR = 0.25  # the sentiment of a mention a person calls an irritant (delight) is at most -0.25 (at least 0.25)


class CorrectionAction(StrEnum):
    """What a correction does to a mention."""

    set = "set"  # change its stage, touchpoint and/or polarity
    delete = "delete"
    add = "add"  # a moment the model missed, by its character span


def overlapping(mentions: Sequence[dict[str, Any]], start: int, end: int) -> int | None:
    """The index of the mention sharing the most characters with start..end (None when none shares any)."""
    best, shared = None, 0
    for index, mention in enumerate(mentions):
        common = min(end, mention["end"]) - max(start, mention["start"])
        if common > shared:
            best, shared = index, common
    return best


def with_polarity(mention: dict[str, Any], polarity: str) -> dict[str, Any]:
    """The mention with a polarity a person gave: its sentiment takes that polarity's sign (at least MIN_POLAR
    strong; 0 for neutral) and an emotion read under another polarity is dropped."""
    if polarity == mention.get("polarity"):
        return mention
    strength = max(abs(float(mention.get("sentiment") or 0.0)), MIN_POLAR)
    sentiment = {"irritant": -strength, "delight": strength}.get(polarity, 0.0)
    return mention | {"polarity": polarity, "sentiment": round(sentiment, 4), "emotion": "none"}


def _spanned(segments: Sequence[Any], start: int, end: int) -> tuple[float, str]:
    """The length-weighted sentiment of the clauses under start..end and the emotion of the one most covered."""
    total, weight, emotion, most = 0.0, 0, "none", 0
    for segment in segments:
        common = min(end, segment.end) - max(start, segment.start)
        if common <= 0:
            continue
        total += common * float(segment.sentiment)
        weight += common
        if common > most:
            emotion, most = segment.emotion, common
    return (round(total / weight, 4) if weight else 0.0), emotion


def apply_correction(
    mentions: Sequence[dict[str, Any]],
    segments: Sequence[Any],
    *,
    action: str,
    start: int,
    end: int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    """The mentions once the correction is applied, in text order (`segments`: the feedback's clauses, with start,
    end, sentiment and emotion). A corrected or added mention has confidence 1: a person said so.

    set: the mention overlapping start..end most gets the labels of `after` (recreated from `before` when a
    re-analysis no longer finds it). delete: that mention goes. add: a mention at start..end with `after`'s labels
    (the one already there with exactly that span takes them)."""
    result = [dict(m) for m in mentions]
    target = overlapping(result, start, end)
    if action == CorrectionAction.delete:
        if target is not None:
            del result[target]
    elif action in (CorrectionAction.set, CorrectionAction.add):
        labels = {k: v for k, v in (after or {}).items() if k in LABELS and v is not None}
        exact = target is not None and (result[target]["start"], result[target]["end"]) == (start, end)
        if action == CorrectionAction.set and target is not None or exact:
            assert target is not None
            mention = result[target]
        else:
            sentiment, emotion = _spanned(segments, start, end)
            mention = {"start": start, "end": end, "sentiment": sentiment, "emotion": emotion, "polarity": None}
            mention |= {k: v for k, v in (before or {}).items() if k in ("stage", "touchpoint")}
            if before and before.get("polarity"):
                mention = with_polarity(mention, before["polarity"])
            result.append(mention)
            target = len(result) - 1
        if "polarity" in labels:
            mention = with_polarity(mention, labels.pop("polarity"))
        result[target] = mention | labels | {"confidence": 1.0}
    else:
        raise ValueError(f"Unknown correction '{action}'. Actions: {', '.join(CorrectionAction)}")
    return sorted(result, key=lambda m: (m["start"], m["end"]))
