"""Every acknowledgement a person is owed is kept, not only an answer's confirmation: that an
edit was taken, that a deletion was, a notice, a reply to a greeting (`kind`), so that a
process that dies before posting one leaves it to the next

A notice is owed its words (`said`), an offer to save words those words too (`kept`); one owed
to someone no round knows has no round, person or question. Going back keeps only the
confirmations of answers: the rest cannot be told apart from them there.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 04:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KNOWN_OF_ANSWERS = (("round_id", sa.Integer()), ("participant_id", sa.Integer()),
                    ("prompt_id", sa.String(length=100)), ("answer_id", sa.String(length=200)))


def upgrade() -> None:
    with op.batch_alter_table("owed_confirmations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), server_default="saved",
                                      nullable=False))
        batch_op.add_column(sa.Column("said", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("kept", sa.JSON(), nullable=True))
        for name, type_ in KNOWN_OF_ANSWERS:
            batch_op.alter_column(name, existing_type=type_, nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM owed_confirmations WHERE kind <> 'saved'")
    with op.batch_alter_table("owed_confirmations", schema=None) as batch_op:
        for name, type_ in KNOWN_OF_ANSWERS:
            batch_op.alter_column(name, existing_type=type_, nullable=False)
        batch_op.drop_column("kept")
        batch_op.drop_column("said")
        batch_op.drop_column("kind")
