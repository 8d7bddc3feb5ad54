"""A workspace's taxonomy: read it, add / rename / describe / retire / merge labels, read its history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from app.api.deps import SessionDep, WorkspaceDep
from app.core.db import retry_transaction
from app.taxonomy.schemas import (
    Family,
    LabelCreate,
    LabelMerge,
    LabelPublic,
    LabelRetire,
    LabelSplit,
    LabelUpdate,
    TaxonomyEditPublic,
    TaxonomyHistory,
    TaxonomyPublic,
)
from app.taxonomy.service import EDITABLE, EditAction, WorkspaceTaxonomy, edit_taxonomy, history, taxonomy_of
from app.workspaces.auth import refresh_workspace

router = APIRouter(prefix="/v1/taxonomy", tags=["taxonomy"])
FamilyPath = Annotated[Family, Path(description="stages or touchpoints.")]
LabelPath = Annotated[str, Path(description="The label's id.", max_length=64)]


def _public(taxonomy: WorkspaceTaxonomy) -> TaxonomyPublic:
    families: dict[str, list[LabelPublic]] = {
        family: [
            LabelPublic(
                id=x.label.id,
                names=x.label.names,
                description=x.label.description,
                examples=list(x.label.examples),
                status=x.status.value,
                merged_into=taxonomy.aliases(family).get(x.label.id),
                origin="shipped" if x.shipped else "workspace",
            )
            for x in taxonomy.labels[family]
        ]
        for family in EDITABLE
    }
    return TaxonomyPublic(version=taxonomy.version, stages=families["stages"], touchpoints=families["touchpoints"])


def _edit(
    request: Request,
    session: SessionDep,
    workspace: WorkspaceDep,
    family: str,
    action: EditAction,
    label_id: str,
    change: dict[str, Any],
    author: str | None,
) -> TaxonomyPublic:
    assert workspace.id is not None
    workspace_id = workspace.id
    edited = retry_transaction(
        session,
        lambda: edit_taxonomy(
            session=session,
            workspace_id=workspace_id,
            base=request.app.state.pipeline.taxonomy,
            family=family,
            action=action,
            label_id=label_id,
            change=change,
            author=author,
        ),
        what="the taxonomy edit",
    )
    refresh_workspace(request, workspace_id)  # this process's next poll sees the new version at once
    return _public(edited)


@router.get("", response_model=TaxonomyPublic, summary="The workspace's taxonomy")
def read_taxonomy(request: Request, workspace: WorkspaceDep) -> TaxonomyPublic:
    """Stages and touchpoints with their ids, FR/EN names, descriptions, examples and status (active, retired,
    merged), and the taxonomy's version. Without any edit, the shipped taxonomy (version 0)."""
    return _public(taxonomy_of(request.app.state.engine, workspace, request.app.state.pipeline.taxonomy))


@router.get("/history", response_model=TaxonomyHistory, summary="Every version of the workspace's taxonomy")
def read_history(session: SessionDep, workspace: WorkspaceDep) -> TaxonomyHistory:
    """Each edit, oldest first: its version, what it changed, who and when."""
    assert workspace.id is not None
    edits = history(session=session, workspace_id=workspace.id)
    return TaxonomyHistory(
        version=edits[-1].version if edits else 0,
        data=[
            TaxonomyEditPublic(
                version=e.version,
                family=e.family,
                action=e.action,
                label=e.label_id,
                change=e.change,
                author=e.author,
                created_at=e.created_at,
            )
            for e in edits
        ],
    )


@router.post("/{family}", status_code=201, response_model=TaxonomyPublic, summary="Add a label")
def add_label(
    family: FamilyPath, body: LabelCreate, request: Request, session: SessionDep, workspace: WorkspaceDep
) -> TaxonomyPublic:
    """Add a stage or touchpoint. New feedback gets it at once, by similarity to its description and examples
    (no retraining); feedback analysed before gets it after `POST /v1/reanalysis`. 409 when the id is taken."""
    change = {"names": body.names.given(), "description": body.description, "examples": body.examples}
    return _edit(request, session, workspace, family, EditAction.add, body.id, change, body.author)


@router.patch("/{family}/{label_id}", response_model=TaxonomyPublic, summary="Rename or describe a label")
def update_label(
    family: FamilyPath,
    label_id: LabelPath,
    body: LabelUpdate,
    request: Request,
    session: SessionDep,
    workspace: WorkspaceDep,
) -> TaxonomyPublic:
    """Change a label's names, description or examples; its id stays."""
    change: dict[str, Any] = {}
    if body.names is not None:
        change["names"] = body.names.given()
    if body.description is not None:
        change["description"] = body.description
    if body.examples is not None:
        change["examples"] = body.examples
    return _edit(request, session, workspace, family, EditAction.update, label_id, change, body.author)


@router.post("/{family}/{label_id}/retire", response_model=TaxonomyPublic, summary="Retire a label")
def retire_label(
    family: FamilyPath,
    label_id: LabelPath,
    request: Request,
    session: SessionDep,
    workspace: WorkspaceDep,
    body: LabelRetire | None = None,
) -> TaxonomyPublic:
    """Stop predicting a label and showing it; its id and history stay. Feedback analysed before keeps it until
    `POST /v1/reanalysis`."""
    author = body.author if body else None
    return _edit(request, session, workspace, family, EditAction.retire, label_id, {}, author)


@router.post("/{family}/merge", response_model=TaxonomyPublic, summary="Merge labels into another")
def merge_labels(
    family: FamilyPath, body: LabelMerge, request: Request, session: SessionDep, workspace: WorkspaceDep
) -> TaxonomyPublic:
    """Count the `from` labels' mentions under `into`, from now on: stored mentions move at once (every figure
    follows), and what the model still predicts as one of them is counted under `into`."""
    change = {"from": list(dict.fromkeys(body.sources))}
    return _edit(request, session, workspace, family, EditAction.merge, body.into, change, body.author)


@router.post("/{family}/{label_id}/split", response_model=TaxonomyPublic, summary="Split a label into new ones")
def split_label(
    family: FamilyPath,
    label_id: LabelPath,
    body: LabelSplit,
    request: Request,
    session: SessionDep,
    workspace: WorkspaceDep,
) -> TaxonomyPublic:
    """Retire a label and add two or more new ones in its place (ids, names, descriptions, examples): new feedback
    gets the new labels at once; feedback analysed before keeps the old one until `POST /v1/reanalysis` re-files
    it under the new ones (corrections made on it are kept and applied again)."""
    parts = [
        {"id": part.id, "names": part.names.given(), "description": part.description, "examples": part.examples}
        for part in body.into
    ]
    change: dict[str, Any] = {"into": parts}
    return _edit(request, session, workspace, family, EditAction.split_label, label_id, change, body.author)
