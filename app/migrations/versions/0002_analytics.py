"""analytics: mention attributes, journey rollup, topic models

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 20:37:12.526194
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_COPIED = ["kind", "source", "channel", "segment", "language", "nps"]


def upgrade() -> None:
    op.create_table(
        "journey_rollup",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("touchpoint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("emotion", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("mentions", sa.Integer(), nullable=False),
        sa.Column("feedback", sa.Integer(), nullable=False),
        sa.Column("sentiment_sum", sa.Float(), nullable=False),
        sa.Column("sentiment_sq", sa.Float(), nullable=False),
        sa.Column("irritant", sa.Integer(), nullable=False),
        sa.Column("delight", sa.Integer(), nullable=False),
        sa.Column("neutral", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "day", "stage", "touchpoint", "emotion"),
    )
    op.create_table(
        "topic_model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("slice", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("data_version", sa.BigInteger(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "slice", name="uq_topic_model_slice"),
    )
    with op.batch_alter_table("topic_model", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_topic_model_workspace_id"), ["workspace_id"], unique=False)

    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.add_column(sa.Column("day", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column("segment", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))
        batch_op.add_column(sa.Column("rating", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("nps", sa.Integer(), nullable=True))

    # Mentions stored before this revision get their feedback's attributes, then the rollup is built.
    copied = ", ".join(f"{c} = (SELECT f.{c} FROM feedback f WHERE f.id = mention.feedback_id)" for c in _COPIED)
    op.execute(
        f"UPDATE mention SET {copied}, "
        "day = (SELECT date(coalesce(f.created_at, f.received_at)) FROM feedback f WHERE f.id = mention.feedback_id), "
        "rating = (SELECT f.rating * 5.0 / coalesce(f.rating_scale, 5.0) FROM feedback f "
        "WHERE f.id = mention.feedback_id)"
    )
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.alter_column("day", existing_type=sa.Date(), nullable=False)
        batch_op.alter_column("kind", existing_type=sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False)
        batch_op.create_index("ix_mention_workspace_day", ["workspace_id", "day"], unique=False)
    for touchpoint in ("touchpoint", "'*'"):
        for emotion in ("emotion", "'*'"):
            groups = ", ".join(["workspace_id", "day", "stage"] + [c for c in (touchpoint, emotion) if "'" not in c])
            op.execute(
                "INSERT INTO journey_rollup (workspace_id, day, stage, touchpoint, emotion, mentions, feedback, "
                "sentiment_sum, sentiment_sq, irritant, delight, neutral) "
                f"SELECT workspace_id, day, stage, {touchpoint}, {emotion}, count(*), count(DISTINCT feedback_id), "
                "sum(sentiment), sum(sentiment * sentiment), "
                "sum(CASE WHEN polarity = 'irritant' THEN 1 ELSE 0 END), "
                "sum(CASE WHEN polarity = 'delight' THEN 1 ELSE 0 END), "
                "sum(CASE WHEN polarity = 'neutral' THEN 1 ELSE 0 END) "
                f"FROM mention GROUP BY {groups}"
            )


def downgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_index("ix_mention_workspace_day")
        for column in ["nps", "rating", "language", "segment", "channel", "source", "kind", "day"]:
            batch_op.drop_column(column)
    with op.batch_alter_table("topic_model", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_topic_model_workspace_id"))
    op.drop_table("topic_model")
    op.drop_table("journey_rollup")
