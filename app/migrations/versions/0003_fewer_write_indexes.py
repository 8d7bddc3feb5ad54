"""drop indexes no query uses (they cost on every analysis write)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 22:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("segment", schema=None) as batch_op:
        batch_op.drop_index("ix_segment_workspace_id")
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_index("ix_mention_workspace_stage")


def downgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.create_index("ix_mention_workspace_stage", ["workspace_id", "stage"], unique=False)
    with op.batch_alter_table("segment", schema=None) as batch_op:
        batch_op.create_index("ix_segment_workspace_id", ["workspace_id"], unique=False)
