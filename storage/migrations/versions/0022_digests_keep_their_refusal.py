"""A digest the platform refused for good keeps why, and what to fix, so that every draft of it
says so until it is posted

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 09:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refused_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("refused_hint", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.drop_column("refused_hint")
        batch_op.drop_column("refused_reason")
