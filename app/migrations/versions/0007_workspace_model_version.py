"""workspace.model_version: the version of the workspace's adapted model, named in X-Parcours-Versions

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workspace") as batch:
        batch.add_column(sa.Column("model_version", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE workspace SET model_version = COALESCE("
        "(SELECT version FROM workspace_model WHERE workspace_model.workspace_id = workspace.id), 0)"
    )


def downgrade() -> None:
    with op.batch_alter_table("workspace") as batch:
        batch.drop_column("model_version")
