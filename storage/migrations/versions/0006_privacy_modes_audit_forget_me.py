"""people's control over their words: a key per round for opaque answer ids, the privacy
notice each round gave, people who withdrew, retention; "don't quote me"; round
co-facilitators; the bot's messages that repeat answers; the audit log; the suppression list

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("privacy_notice", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn", sa.Integer(), server_default="0",
                                      nullable=False))
        batch_op.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("summary", sa.JSON(), nullable=True))
    rounds = sa.table("rounds", sa.column("id", sa.Integer()), sa.column("secret", sa.String()))
    connection = op.get_bind()
    for (round_id,) in connection.execute(sa.select(rounds.c.id)).all():
        connection.execute(rounds.update().where(rounds.c.id == round_id)
                           .values(secret=secrets.token_hex(16)))
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.alter_column("secret", existing_type=sa.String(length=64), nullable=False)

    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quotable", sa.Boolean(), server_default=sa.true(),
                                      nullable=False))

    op.create_table(
        "round_facilitators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("platform_user_id", sa.String(length=64), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"],
                                name=op.f("fk_round_facilitators_round_id_rounds"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_facilitators")),
        sa.UniqueConstraint("round_id", "platform_user_id",
                            name=op.f("uq_round_facilitators_round_id_platform_user_id")),
    )
    op.create_table(
        "bot_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("digest_id", sa.Integer(), nullable=True),
        sa.Column("part", sa.Integer(), nullable=True),
        sa.Column("prompt_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["digest_id"], ["digests.id"],
                                name=op.f("fk_bot_messages_digest_id_digests"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"],
                                name=op.f("fk_bot_messages_participant_id_participants"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"],
                                name=op.f("fk_bot_messages_round_id_rounds"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_messages")),
    )
    with op.batch_alter_table("bot_messages", schema=None) as batch_op:
        batch_op.create_index("ix_bot_messages_round_id_kind", ["round_id", "kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_bot_messages_participant_id"), ["participant_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_bot_messages_digest_id"), ["digest_id"],
                              unique=False)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_round_id"), ["round_id"], unique=False)
    op.create_table(
        "suppressed",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_suppressed")),
    )


def downgrade() -> None:
    op.drop_table("suppressed")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_round_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
    op.drop_table("audit_log")
    with op.batch_alter_table("bot_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_messages_digest_id"))
        batch_op.drop_index(batch_op.f("ix_bot_messages_participant_id"))
        batch_op.drop_index("ix_bot_messages_round_id_kind")
    op.drop_table("bot_messages")
    op.drop_table("round_facilitators")
    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.drop_column("quotable")
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("summary")
        batch_op.drop_column("purged_at")
        batch_op.drop_column("withdrawn")
        batch_op.drop_column("privacy_notice")
        batch_op.drop_column("secret")
