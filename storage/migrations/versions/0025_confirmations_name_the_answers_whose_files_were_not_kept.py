"""Confirmations of several answers name those whose files they said were not kept, so that
bringing one up to date after an edit says so again

Rows kept before name none (NULL): brought up to date, they no longer say it.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 17:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bot_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("files_dropped", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bot_messages", schema=None) as batch_op:
        batch_op.drop_column("files_dropped")
