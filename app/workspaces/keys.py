"""An operator's work on workspaces and their API keys (`parcours workspace list|revoke|rotate`).

Keys are stored as SHA-256 only (`app.core.security`), so nothing here can show a key again: a listing shows
its prefix, and a lost key is replaced by rotating. A revoked key is refused by every service process within
its key cache time (`KeyCache.key_ttl`, 30 s); a process that has not seen the key recently refuses it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import Session

from app.core.errors import AppError
from app.core.security import key_prefix
from app.crud import create_api_key
from app.models import ApiKey, Workspace, utcnow


@dataclass(frozen=True)
class WorkspaceKeys:
    """A workspace as an operator lists it: no secret, only the prefixes of its active keys."""

    id: int
    name: str
    created_at: datetime
    key_prefixes: list[str]
    revoked_keys: int


def list_workspaces(*, session: Session) -> list[WorkspaceKeys]:
    """Return every workspace, oldest first, with the prefixes of its active keys."""
    active: dict[int, list[str]] = {}
    revoked: dict[int, int] = {}
    keys = session.execute(select(ApiKey.workspace_id, ApiKey.prefix, ApiKey.revoked_at).order_by(ApiKey.id)).all()
    for key in keys:
        if key.revoked_at is None:
            active.setdefault(key.workspace_id, []).append(key.prefix)
        else:
            revoked[key.workspace_id] = revoked.get(key.workspace_id, 0) + 1
    return [
        WorkspaceKeys(w.id, w.name, w.created_at, active.get(w.id, []), revoked.get(w.id, 0))
        for w in session.scalars(select(Workspace).order_by(Workspace.id))
    ]


def find_workspace(*, session: Session, ref: str) -> Workspace:
    """Return the workspace named `ref`, or whose id is `ref`; 404 naming the known workspaces otherwise."""
    workspace = session.scalar(select(Workspace).where(Workspace.name == ref))
    if workspace is None and ref.isdigit():
        workspace = session.get(Workspace, int(ref))
    if workspace is None:
        names = [f"{w.id} ({w.name})" for w in session.scalars(select(Workspace).order_by(Workspace.id).limit(20))]
        known = ", ".join(names) or "none"
        raise AppError(404, "workspace_not_found", f"No workspace '{ref}' (by name or id). Workspaces: {known}")
    return workspace


def revoke_api_keys(*, session: Session, workspace: Workspace, prefix: str | None = None) -> list[str]:
    """Revoke the workspace's active keys (only the one starting with `prefix` when given); return their prefixes."""
    conditions = [ApiKey.workspace_id == workspace.id, ApiKey.revoked_at.is_(None)]
    if prefix is not None:
        conditions.append(ApiKey.prefix == key_prefix(prefix))  # the listed prefix, or the whole key
    prefixes = list(session.scalars(select(ApiKey.prefix).where(*conditions).order_by(ApiKey.id)))
    if prefix is not None and not prefixes:
        raise AppError(404, "api_key_not_found", f"Workspace '{workspace.name}' has no active key '{prefix}'")
    session.execute(update(ApiKey).where(*conditions).values(revoked_at=utcnow()))
    return prefixes


def rotate_api_key(*, session: Session, workspace: Workspace) -> tuple[str, list[str]]:
    """Issue a new key and revoke every other key of the workspace; return the new key and the revoked prefixes."""
    revoked = revoke_api_keys(session=session, workspace=workspace)
    return create_api_key(session=session, workspace=workspace), revoked
