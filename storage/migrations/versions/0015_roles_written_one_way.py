"""Roles and organisations stored before roles were kept as first written ("Community
Pharmacist" and "community pharmacist ") become one spelling: the first one written, spaced as
`people.known_spelling` stores a new one. People are grouped by these in every digest and
status; two spellings of one role were two groups, each perhaps too small to be shown

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-16 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

participants = sa.table("participants", sa.column("id", sa.Integer),
                        sa.column("role", sa.String), sa.column("organisation", sa.String))
FIELDS = ("role", "organisation")


def _spaced(value: str) -> str:
    """As bot.core.people reads a role at this revision: spaces collapsed, ends trimmed."""
    return " ".join(value.split())


def upgrade() -> None:
    bind = op.get_bind()
    for field in FIELDS:
        column = participants.c[field]
        first: dict[str, str] = {}
        for person_id, value in bind.execute(
                sa.select(participants.c.id, column).where(column.is_not(None))
                .order_by(participants.c.id)).all():
            kept = first.setdefault(_spaced(value).lower(), _spaced(value))
            if kept != value:
                bind.execute(participants.update().where(participants.c.id == person_id)
                             .values({field: kept}))


def downgrade() -> None:
    """Nothing to undo: the spellings merged away were not kept, and the earlier code reads
    the merged ones as it read any other."""
