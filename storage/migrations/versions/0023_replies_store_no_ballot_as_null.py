"""Answers without a ballot store SQL NULL, not JSON null, in `replies.choices`

Edits and deletions wrote JSON null, which `choices IS NOT NULL` took for a ballot: an edited
comment on a vote's question counted as a vote. The model now writes NULL; this turns the
rows already written into NULL too.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 13:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

replies = sa.table("replies", sa.column("choices", sa.JSON()))


def upgrade() -> None:
    op.execute(replies.update().where(sa.cast(replies.c.choices, sa.Text) == "null")
               .values(choices=sa.null()))


def downgrade() -> None:
    """Nothing to undo: NULL reads back as None, as JSON null did."""
