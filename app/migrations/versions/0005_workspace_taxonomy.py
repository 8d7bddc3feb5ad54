"""workspace taxonomies, corrections and re-analysis: taxonomy_edit, correction, reanalysis tables;
workspace.taxonomy_version (0: the shipped taxonomy) and feedback.taxonomy_version

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _string(length: int) -> sa.types.TypeEngine[str]:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.add_column(sa.Column("taxonomy_version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("taxonomy_version", sa.Integer(), nullable=True))
    op.create_table(
        "taxonomy_edit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("family", _string(16), nullable=False),
        sa.Column("action", _string(16), nullable=False),
        sa.Column("label_id", _string(64), nullable=False),
        sa.Column("change", sa.JSON(), nullable=False),
        sa.Column("author", _string(200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "version", name="uq_taxonomy_edit_version"),
    )
    op.create_table(
        "correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("feedback_id", sa.Integer(), nullable=False),
        sa.Column("action", _string(16), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("author", _string(200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["feedback_id"], ["feedback.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("correction", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_correction_workspace_id"), ["workspace_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_correction_feedback_id"), ["feedback_id"], unique=False)
    op.create_table(
        "reanalysis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("status", _string(16), nullable=False),
        sa.Column("taxonomy_version", sa.Integer(), nullable=False),
        sa.Column("model", _string(100), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("last_feedback_id", sa.Integer(), nullable=False),
        sa.Column("author", _string(200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reanalysis", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reanalysis_workspace_id"), ["workspace_id"], unique=False)


def downgrade() -> None:
    op.drop_table("reanalysis")
    op.drop_table("correction")
    op.drop_table("taxonomy_edit")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_column("taxonomy_version")
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.drop_column("taxonomy_version")
