"""Teams: conversation references, people found in team rosters, the activities sent; and
mixed rounds: a digest channel per further platform, and the platform of a digest post

Revision ID: 0007
Revises: 0005 (written beside the privacy work's 0006: rechain to "0006" when both land)
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "round_channels",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"],
                                name=op.f("fk_round_channels_round_id_rounds"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("round_id", "platform", name=op.f("pk_round_channels")),
    )
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("platform", sa.String(length=16), nullable=True))
    op.create_table(
        "teams_conversations",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.Text(), nullable=False),
        sa.Column("service_url", sa.String(length=500), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("aad_object_id", sa.String(length=64), nullable=True),
        sa.Column("team_id", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_teams_conversations")),
    )
    with op.batch_alter_table("teams_conversations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_teams_conversations_aad_object_id"),
                              ["aad_object_id"], unique=False)
    op.create_table(
        "teams_users",
        sa.Column("aad_object_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("service_url", sa.String(length=500), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("aad_object_id", name=op.f("pk_teams_users")),
    )
    with op.batch_alter_table("teams_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_teams_users_email"), ["email"], unique=False)
    op.create_table(
        "teams_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(length=100), nullable=False),
        sa.Column("conversation_key", sa.String(length=64), nullable=False),
        sa.Column("activity_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams_sent")),
        sa.UniqueConstraint("kind", "ref_id", "part", name=op.f("uq_teams_sent_kind_ref_id_part")),
    )


def downgrade() -> None:
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.drop_column("platform")
    op.drop_table("round_channels")
    op.drop_table("teams_sent")
    with op.batch_alter_table("teams_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teams_users_email"))
    op.drop_table("teams_users")
    with op.batch_alter_table("teams_conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teams_conversations_aad_object_id"))
    op.drop_table("teams_conversations")
