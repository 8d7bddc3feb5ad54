"""The scope of an analytics or listing request, read once from the query string: filters normalised (dates as
whole UTC days, both bounds inclusive) and labels checked against the taxonomy, as a `FeedbackFilters`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from app.api.deps import WorkspaceDep
from app.core.errors import AppError
from app.crud import FeedbackFilters, utc_day
from app.models import Workspace
from app.schemas import METADATA_KEY_CHARS, METADATA_VALUE_CHARS, DayOrTime
from app.taxonomy.service import taxonomy_of
from nlp.taxonomy import Taxonomy


def workspace_taxonomy(request: Request, workspace: Workspace) -> Taxonomy:
    """The taxonomy a workspace's labels come from: its own active labels (app.taxonomy), the shipped taxonomy
    until it edits one; cached per workspace and version (the database is read once per new version)."""
    return taxonomy_of(request.app.state.engine, workspace, request.app.state.pipeline.taxonomy).active()


async def request_taxonomy(request: Request, workspace: WorkspaceDep) -> Taxonomy:
    """The workspace's taxonomy as a dependency: resolved once per request, shared by the filters and the Scope."""
    return workspace_taxonomy(request, workspace)


TaxonomyDep = Annotated[Taxonomy, Depends(request_taxonomy)]


def _metadata_pairs(values: list[str]) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, wanted = value.partition("=")
        if not sep or not key:
            raise AppError(422, "invalid_filter", f"metadata filter '{value}' must be key=value")
        _check_strings("metadata", [key], METADATA_KEY_CHARS)
        _check_strings("metadata", [wanted], METADATA_VALUE_CHARS)
        pairs[key] = wanted
    return pairs


def _check_strings(field: str, values: list[str], longest: int) -> None:
    """422 naming the field when a value holds a NUL character or is longer than the column it is compared with."""
    for value in values:
        if "\x00" in value:
            problem = "contains a NUL character (\\u0000)"
        elif len(value) > longest:
            problem = f"longer than {longest} characters"
        else:
            continue
        raise AppError(
            422, "invalid_filter", f"{field}: a value {problem}", errors=[{"field": field, "message": problem}]
        )


KINDS = ("review", "survey", "social")
POLARITIES = ("irritant", "delight", "neutral")


def check_allowed(field: str, values: list[str], allowed: Any) -> None:
    """422 naming the field, the wrong values and the allowed ones."""
    allowed = list(allowed)
    wrong = [v for v in values if v not in allowed]
    if wrong:
        raise AppError(
            422,
            "invalid_filter",
            f"{field}: {', '.join(map(repr, wrong))} is not one of {', '.join(allowed)}",
            errors=[{"field": field, "message": f"allowed values: {', '.join(allowed)}"}],
        )


async def feedback_filters(
    taxonomy: TaxonomyDep,
    date_from: Annotated[
        DayOrTime | None,
        Query(
            description="First day (inclusive) of the feedback's date (written, else received), as a UTC calendar "
            "day: 2026-05-01; a date-time is converted to UTC and only its day is kept. Between 1900-01-01 and "
            "2999-12-31."
        ),
    ] = None,
    date_to: Annotated[
        DayOrTime | None,
        Query(description="Last day (inclusive), a UTC calendar day like date_from: the whole day is included."),
    ] = None,
    kind: Annotated[list[str], Query(description="review, survey or social (repeat for several).")] = [],  # noqa: B006
    source: Annotated[list[str], Query(description="The feedback's source, as sent (repeat for several).")] = [],  # noqa: B006
    channel: Annotated[list[str], Query(description="The feedback's channel, as sent (repeat for several).")] = [],  # noqa: B006
    segment: Annotated[list[str], Query(description="Customer segment, as sent (repeat for several).")] = [],  # noqa: B006
    language: Annotated[list[str], Query(description="Detected or given language code, e.g. fr, en.")] = [],  # noqa: B006
    rating_min: Annotated[
        float | None, Query(allow_inf_nan=False, description="Lowest rating, on a 5-point scale.")
    ] = None,
    rating_max: Annotated[
        float | None, Query(allow_inf_nan=False, description="Highest rating, on a 5-point scale.")
    ] = None,
    metadata: Annotated[list[str], Query(description="key=value on the item's metadata (repeat for several).")] = [],  # noqa: B006
    stage: Annotated[list[str], Query(description="Feedback with a mention at this stage.")] = [],  # noqa: B006
    touchpoint: Annotated[list[str], Query(description="Feedback with a mention at this touchpoint (id).")] = [],  # noqa: B006
    polarity: Annotated[list[str], Query(description="irritant, delight or neutral.")] = [],  # noqa: B006
    emotion: Annotated[list[str], Query(description="Feedback with a mention of this emotion (id).")] = [],  # noqa: B006
    q: Annotated[str | None, Query(description="Text search (case-insensitive substring).", max_length=200)] = None,
) -> FeedbackFilters:
    """Read the shared feedback filters from the query string; unknown labels answer 422 with the allowed ones."""
    for name, values, longest in (
        ("source", source, 100), ("channel", channel, 100), ("segment", segment, 100), ("language", language, 8),
        ("q", [q] if q else [], 200),
    ):  # fmt: skip
        _check_strings(name, values, longest)
    check_allowed("kind", kind, KINDS)
    check_allowed("polarity", polarity, POLARITIES)
    check_allowed("stage", stage, [label.id for label in taxonomy.stages])
    check_allowed("touchpoint", touchpoint, [label.id for label in taxonomy.touchpoints])
    check_allowed("emotion", emotion, [label.id for label in taxonomy.emotions])
    first, last = utc_day(date_from), utc_day(date_to)
    if first is not None and last is not None and first > last:
        raise AppError(422, "invalid_filter", f"date_from {first} is after date_to {last} (UTC days)")
    if rating_min is not None and rating_max is not None and rating_min > rating_max:
        raise AppError(422, "invalid_filter", f"rating_min {rating_min} is above rating_max {rating_max}")
    return FeedbackFilters(
        date_from=first,
        date_to=last,
        kind=kind,
        source=source,
        channel=channel,
        segment=segment,
        language=language,
        rating_min=rating_min,
        rating_max=rating_max,
        metadata=_metadata_pairs(metadata),
        stage=stage,
        touchpoint=touchpoint,
        polarity=polarity,
        emotion=emotion,
        q=q,
    )


FiltersDep = Annotated[FeedbackFilters, Depends(feedback_filters)]


@dataclass(frozen=True)
class Scope:
    """What an analytics question is about: the caller's workspace, the taxonomy of its labels, and its filters
    (normalised once: whole UTC days, labels checked against that taxonomy)."""

    workspace: Workspace
    taxonomy: Taxonomy
    filters: FeedbackFilters


async def question_scope(workspace: WorkspaceDep, taxonomy: TaxonomyDep, filters: FiltersDep) -> Scope:
    """The Scope of the request."""
    return Scope(workspace, taxonomy, filters)


ScopeDep = Annotated[Scope, Depends(question_scope)]
