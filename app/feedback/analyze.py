"""Stateless analysis: texts in, journey analyses out, nothing stored."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api.deps import AnalysisLockDep, PipelineDep, SettingsDep, WorkspaceDep
from app.core.config import Settings
from app.core.errors import AppError, invalid_request
from app.journey.answers import AnalyzeAnswer
from app.schemas import AnalyzeRequest

router = APIRouter(prefix="/v1", tags=["analyze"])


# The answer is documented by AnalyzeAnswer but returned as built (no response_model filtering it).
@router.post(
    "/analyze",
    summary="Analyse texts without storing them",
    response_model=None,
    responses={200: {"model": AnalyzeAnswer, "description": "One analysis per text, in order."}},
)
def analyze_texts(
    request: AnalyzeRequest,
    pipeline: PipelineDep,
    lock: AnalysisLockDep,
    settings: SettingsDep,
    _workspace: WorkspaceDep,
) -> dict[str, Any]:
    """Return one analysis per text (segments, mentions, evidence), in order; nothing is written.

    Limits (settings): `max_analyze_texts` texts, each at most `max_text_chars` characters, `max_analyze_chars`
    characters in all: the analysis holds the service's one analysis lock while it runs.
    """
    items = request.items or []
    texts = request.texts if request.texts is not None else [i.text for i in items]
    if len(texts) > settings.max_analyze_texts:
        raise AppError(
            413,
            "batch_too_large",
            f"{len(texts)} texts; the limit is {settings.max_analyze_texts} per request",
            limit=settings.max_analyze_texts,
        )
    _check_lengths(texts, "texts.{}" if request.texts is not None else "items.{}.text", settings)
    ids = [i.id or str(n) for n, i in enumerate(items)] if items else None
    languages = [i.language for i in items] if items else None
    with lock:
        analyses = pipeline.analyze(texts, ids=ids, languages=languages)
    return {
        "model": pipeline.manifest.tag if pipeline.manifest else None,
        "analyses": [a.to_dict() for a in analyses],
    }


def _check_lengths(texts: list[str], field: str, settings: Settings) -> None:
    """422 naming each text over `max_text_chars`; 413 when all of them together are over `max_analyze_chars`."""
    longest = settings.max_text_chars
    errors = [
        {"field": field.format(n), "message": f"String should have at most {longest} characters"}
        for n, text in enumerate(texts)
        if len(text) > longest
    ]
    if errors:
        raise invalid_request(errors)
    total = sum(map(len, texts))
    if total > settings.max_analyze_chars:
        raise AppError(
            413,
            "analysis_too_large",
            f"{total} characters in all; the limit is {settings.max_analyze_chars} per request",
            limit=settings.max_analyze_chars,
        )
