"""Stateless analysis: texts in, journey analyses out, nothing stored."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api.deps import AnalysisLockDep, PipelineDep, SettingsDep, WorkspaceDep
from app.core.errors import AppError
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
    """Return one analysis per text (segments, mentions, evidence), in order; nothing is written."""
    items = request.items or []
    texts = request.texts if request.texts is not None else [i.text for i in items]
    if len(texts) > settings.max_analyze_texts:
        raise AppError(
            413,
            "batch_too_large",
            f"{len(texts)} texts; the limit is {settings.max_analyze_texts} per request",
            limit=settings.max_analyze_texts,
        )
    ids = [i.id or str(n) for n, i in enumerate(items)] if items else None
    languages = [i.language for i in items] if items else None
    with lock:
        analyses = pipeline.analyze(texts, ids=ids, languages=languages)
    return {
        "model": pipeline.manifest.name + "-" + pipeline.manifest.version if pipeline.manifest else None,
        "analyses": [a.to_dict() for a in analyses],
    }
