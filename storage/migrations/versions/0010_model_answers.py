"""A language model's answers, shared by every process: its groupings (moved from
model_groupings) and its headlines, by kind and a hash of what was sent, with the round whose
words a headline holds

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_answers",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"],
                                name=op.f("fk_model_answers_round_id_rounds"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_model_answers")),
    )
    with op.batch_alter_table("model_answers", schema=None) as batch_op:
        batch_op.create_index("ix_model_answers_round_id", ["round_id"], unique=False)
    # the groupings kept so far stay in use: their keys are the same hashes
    op.execute("INSERT INTO model_answers (kind, key, round_id, value, created_at) "
               "SELECT 'grouping', key, NULL, labels, created_at FROM model_groupings")
    op.drop_table("model_groupings")


def downgrade() -> None:
    op.create_table(
        "model_groupings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_model_groupings")),
    )
    # headlines had no table before: they go (each process asks the model again)
    op.execute("INSERT INTO model_groupings (key, labels, created_at) "
               "SELECT key, value, created_at FROM model_answers WHERE kind = 'grouping'")
    with op.batch_alter_table("model_answers", schema=None) as batch_op:
        batch_op.drop_index("ix_model_answers_round_id")
    op.drop_table("model_answers")
