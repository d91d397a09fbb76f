"""Confirmations of several answers name the answers they repeat, so that the deletion of one
of them can take its words off the confirmation

Rows kept before name none: their answers' deletions leave them as they were.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bot_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answers", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bot_messages", schema=None) as batch_op:
        batch_op.drop_column("answers")
