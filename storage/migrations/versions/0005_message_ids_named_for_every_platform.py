"""message ids named for every platform: `message_ts` (a Slack word) becomes `message_id`

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 19:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("deliveries", "digests", "reminders")


def upgrade() -> None:
    _rename("message_ts", "message_id")


def downgrade() -> None:
    _rename("message_id", "message_ts")


def _rename(old: str, new: str) -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(old, new_column_name=new)
    with op.batch_alter_table("question_messages", schema=None) as batch_op:
        batch_op.drop_constraint(f"uq_question_messages_channel_id_{old}", type_="unique")
        batch_op.alter_column(old, new_column_name=new)
    with op.batch_alter_table("question_messages", schema=None) as batch_op:
        batch_op.create_unique_constraint(f"uq_question_messages_channel_id_{new}",
                                          ["channel_id", new])
