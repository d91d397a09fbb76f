"""questions asked one at a time: the next question queued on the delivery, skips recorded;
replies found by message id through an index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 21:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_prompt_id", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("follow_up_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("question_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("skipped_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.create_index("ix_replies_external_id", ["external_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.drop_index("ix_replies_external_id")
    with op.batch_alter_table("question_messages", schema=None) as batch_op:
        batch_op.drop_column("skipped_at")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("follow_up_at")
        batch_op.drop_column("next_prompt_id")
