"""Digests reviewed before they post: a round's review setting, a digest's deadline and
approver, and the facilitators' edits

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 22:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        # rounds that exist already keep posting as built, as they did
        batch_op.add_column(sa.Column("review", sa.String(length=8), server_default="post",
                                      nullable=False))
        batch_op.add_column(sa.Column("review_hours", sa.Integer(), server_default="24",
                                      nullable=False))
        batch_op.add_column(sa.Column("unreviewed", sa.String(length=8), server_default="wait",
                                      nullable=False))
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_until", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("approved_by", sa.String(length=200), nullable=True))
    op.create_table(
        "digest_edits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("prompt_id", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("theme", sa.JSON(), nullable=True),
        sa.Column("other", sa.JSON(), nullable=True),
        sa.Column("reply_id", sa.String(length=200), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"],
                                name=op.f("fk_digest_edits_round_id_rounds"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_edits")),
    )
    with op.batch_alter_table("digest_edits", schema=None) as batch_op:
        batch_op.create_index("ix_digest_edits_round_id", ["round_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("digest_edits", schema=None) as batch_op:
        batch_op.drop_index("ix_digest_edits_round_id")
    op.drop_table("digest_edits")
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.drop_column("approved_by")
        batch_op.drop_column("review_until")
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("unreviewed")
        batch_op.drop_column("review_hours")
        batch_op.drop_column("review")
