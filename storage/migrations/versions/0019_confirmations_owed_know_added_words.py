"""A confirmation owed knows whether its words were added beside an answer given already, so
that one posted after a crash says so

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 02:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("owed_confirmations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("added", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("owed_confirmations", schema=None) as batch_op:
        batch_op.drop_column("added")
