"""Workspaces: the caller's own (settings), and creation by an administrator."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import update as sql_update

from app.api.deps import AdminDep, SessionDep, WorkspaceDep
from app.core.db import retry_transaction
from app.crud import check_pii_kinds, create_workspace
from app.models import Workspace
from app.schemas import WorkspaceCreate, WorkspaceCreated, WorkspacePublic, WorkspaceUpdate

router = APIRouter(tags=["workspaces"])


@router.get("/v1/workspace", response_model=WorkspacePublic, summary="The caller's workspace")
def read_workspace(workspace: WorkspaceDep) -> WorkspacePublic:
    """Return the workspace the API key belongs to."""
    return WorkspacePublic.model_validate(workspace.model_dump())


@router.patch("/v1/workspace", response_model=WorkspacePublic, summary="Change the workspace's settings")
def update_workspace(update: WorkspaceUpdate, workspace: WorkspaceDep, session: SessionDep) -> WorkspacePublic:
    """Set which personal data is masked in feedback stored from now on (email, phone, iban, card)."""
    kinds = check_pii_kinds(update.mask_pii)
    statement = sql_update(Workspace).where(Workspace.id == workspace.id).values(mask_pii=kinds)
    retry_transaction(session, lambda: session.execute(statement), what="the change")
    return WorkspacePublic.model_validate({**workspace.model_dump(), "mask_pii": kinds})


@router.post(
    "/admin/workspaces", status_code=201, response_model=WorkspaceCreated, summary="Create a workspace (admin)"
)
def admin_create_workspace(body: WorkspaceCreate, session: SessionDep, _admin: AdminDep) -> WorkspaceCreated:
    """Create a workspace and its first API key; the key is in the answer only."""
    workspace, key = create_workspace(session=session, name=body.name, mask_pii=body.mask_pii)
    session.commit()
    return WorkspaceCreated(**workspace.model_dump(), api_key=key)
