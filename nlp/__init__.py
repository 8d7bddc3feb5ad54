"""Parcours analysis library: customer feedback (FR, EN, any mix) to customer-journey mentions.

>>> from nlp import analyze
>>> [m.stage for m in analyze(["Livraison rapide mais le SAV ne répond jamais"])[0].mentions]
['onboarding', 'support']
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from nlp.pipeline import Pipeline, load_pipeline
from nlp.types import Analysis, Mention, Segment, SegmentAnalysis

__all__ = [
    "Analysis",
    "Mention",
    "Pipeline",
    "Segment",
    "SegmentAnalysis",
    "analyze",
    "default_pipeline",
    "load_pipeline",
]


@lru_cache(maxsize=1)
def default_pipeline() -> Pipeline:
    """Return the shipped pipeline, loaded once per process."""
    return load_pipeline()


def analyze(texts: Sequence[str], ids: Sequence[str] | None = None) -> list[Analysis]:
    """Analyse texts with the shipped model; one Analysis per text, in order."""
    return default_pipeline().analyze(texts, ids=ids)
