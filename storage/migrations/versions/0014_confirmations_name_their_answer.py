"""Confirmations name the answer they confirm (when they confirm one alone), so that an edit
of the answer can update its confirmation

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-15 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bot_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answer_id", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bot_messages", schema=None) as batch_op:
        batch_op.drop_column("answer_id")
