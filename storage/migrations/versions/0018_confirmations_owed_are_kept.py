"""Confirmations owed are kept in the database with the answers they confirm, so that a
process that dies before posting them leaves them to the next one

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 01:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "owed_confirmations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("thread_id", sa.String(length=64), nullable=True),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("prompt_id", sa.String(length=100), nullable=False),
        sa.Column("answer_id", sa.String(length=200), nullable=False),
        sa.Column("vote", sa.Boolean(), nullable=False),
        sa.Column("updated", sa.Boolean(), nullable=False),
        sa.Column("files_dropped", sa.Boolean(), nullable=False),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_owed_confirmations_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds.id"],
            name=op.f("fk_owed_confirmations_round_id_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owed_confirmations")),
    )
    op.create_index("ix_owed_confirmations_answer_id", "owed_confirmations", ["answer_id"])
    op.create_index(
        op.f("ix_owed_confirmations_participant_id"), "owed_confirmations", ["participant_id"]
    )


def downgrade() -> None:
    op.drop_table("owed_confirmations")
