"""Analysing feedback with its workspace's taxonomy: the shared model seen through each workspace's labels
(`Pipeline.with_taxonomy`), merged labels counted under their target."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlmodel import Session

from app.models import Feedback, Workspace
from app.taxonomy.service import COLUMN, WorkspaceTaxonomy, read_taxonomy
from nlp.adapt import Adapter
from nlp.pipeline import Pipeline
from nlp.taxonomy import Taxonomy
from nlp.types import Analysis


def feedback_taxonomies(
    *, session: Session, base: Taxonomy, feedback_ids: Sequence[int]
) -> dict[int, WorkspaceTaxonomy]:
    """Each feedback's workspace taxonomy, as it is now (the shipped one for feedback erased meanwhile)."""
    rows = session.execute(
        select(Feedback.id, Feedback.workspace_id, Workspace.taxonomy_version)
        .join(Workspace, Workspace.id == Feedback.workspace_id)
        .where(Feedback.id.in_(list(feedback_ids)))
    ).all()
    found = {
        feedback_id: read_taxonomy(session=session, workspace_id=workspace_id, version=version, base=base)
        for feedback_id, workspace_id, version in rows
    }
    return {i: found.get(i) or WorkspaceTaxonomy.shipped(base) for i in feedback_ids}


def relabelled(analysis: Analysis, taxonomy: WorkspaceTaxonomy) -> Analysis:
    """The analysis with merged labels replaced by the label they count under (clauses and mentions)."""
    stages, touchpoints = taxonomy.aliases("stages"), taxonomy.aliases("touchpoints")
    if not stages and not touchpoints:
        return analysis

    def moved(record: object) -> dict[str, str]:
        found = {COLUMN["stages"]: stages, COLUMN["touchpoints"]: touchpoints}
        return {k: a[v] for k, a in found.items() if (v := getattr(record, k)) in a}

    return dataclasses.replace(
        analysis,
        segments=[dataclasses.replace(s, **moved(s)) for s in analysis.segments],
        mentions=[dataclasses.replace(m, **moved(m)) for m in analysis.mentions],
    )


def analyse(
    pipeline: Pipeline,
    taxonomies: Sequence[WorkspaceTaxonomy],
    texts: Sequence[str],
    ids: Sequence[str],
    languages: Sequence[str | None],
    priors: Sequence[float | None],
    adapters: Sequence[Adapter | None] | None = None,
) -> list[Analysis]:
    """Analyse each text with its own taxonomy (one pipeline call per taxonomy in the batch); input order kept.
    `adapters` (one per text, None where none): its workspace's model learnt from corrections (app.learning)."""
    groups: dict[tuple[str, str, int], list[int]] = {}
    for row, taxonomy in enumerate(taxonomies):
        adapter = adapters[row] if adapters is not None else None
        key = (taxonomy.analysed().fingerprint(), repr([taxonomy.aliases(f) for f in COLUMN]), id(adapter))
        groups.setdefault(key, []).append(row)
    result: list[Analysis | None] = [None] * len(texts)
    for rows in groups.values():
        taxonomy = taxonomies[rows[0]]
        view = pipeline.with_taxonomy(taxonomy.analysed())
        adapter = adapters[rows[0]] if adapters is not None else None
        view = adapter.apply(view) if adapter is not None else view
        analysed = view.analyze(
            [texts[i] for i in rows],
            ids=[ids[i] for i in rows],
            languages=[languages[i] for i in rows],
            priors=[priors[i] for i in rows],
        )
        for row, analysis in zip(rows, analysed, strict=True):
            result[row] = relabelled(analysis, taxonomy)
    return [a for a in result if a is not None]


def record_versions(*, session: Session, versions: dict[int, int]) -> None:
    """Remember which taxonomy version each feedback was analysed with."""
    by_version: dict[int, list[int]] = {}
    for feedback_id, version in versions.items():
        by_version.setdefault(version, []).append(feedback_id)
    for version, ids in sorted(by_version.items()):
        session.execute(update(Feedback).where(Feedback.id.in_(sorted(ids))).values(taxonomy_version=version))
