"""Imported people, one per round: a CSV's participant label (p14) names someone within one
workshop's file only, so each round's p14 becomes a person of their own (`p14@round3`); and
imported answers that came without an id get the one a new import makes for them, so that
importing the same file again stores nothing new

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# as bot.core.imports and bot.core.public_ids have them at this revision
IMPORT = "import"
MARK = "@round"
DERIVED = "row:"
ID_LENGTH = 64
SCOPED = re.compile(rf"^(?P<label>.+){re.escape(MARK)}(?P<round>\d+)$", re.DOTALL)

participants = sa.table(
    "participants", sa.column("id", sa.Integer), sa.column("platform", sa.String),
    sa.column("platform_user_id", sa.String), sa.column("display_name", sa.String),
    sa.column("role", sa.String), sa.column("organisation", sa.String),
    sa.column("timezone", sa.String), sa.column("opted_out", sa.Boolean),
    sa.column("opted_out_at", sa.DateTime), sa.column("details_fetched_at", sa.DateTime),
    sa.column("created_at", sa.DateTime))
replies = sa.table(
    "replies", sa.column("id", sa.Integer), sa.column("round_id", sa.Integer),
    sa.column("prompt_id", sa.String), sa.column("participant_id", sa.Integer),
    sa.column("text", sa.Text), sa.column("choices", sa.JSON), sa.column("source", sa.String),
    sa.column("external_id", sa.String))
BY_ROUND = [sa.table(name, sa.column("participant_id", sa.Integer),
                     sa.column("round_id", sa.Integer))
            for name in ("replies", "deliveries", "reminders", "bot_messages")]
"""The rows of a person that belong to one round."""


def _rounds_of(bind: sa.Connection, participant_id: int) -> list[int]:
    found: set[int] = set()
    for table in BY_ROUND:
        found |= {r for r in bind.scalars(sa.select(table.c.round_id).where(
            table.c.participant_id == participant_id)) if r is not None}
    return sorted(found)


def _move(bind: sa.Connection, old: int, new: int, round_id: int | None = None) -> None:
    for table in BY_ROUND:
        where = table.c.participant_id == old
        if round_id is not None:
            where = sa.and_(where, table.c.round_id == round_id)
        bind.execute(table.update().where(where).values(participant_id=new))


def upgrade() -> None:
    bind = op.get_bind()
    columns = [c for c in participants.c if c.name not in ("id", "platform_user_id")]
    for person in bind.execute(sa.select(participants).where(
            participants.c.platform == IMPORT)).mappings().all():
        label = person["platform_user_id"]
        rounds = _rounds_of(bind, person["id"])
        if SCOPED.match(label) or not rounds or len(f"{label}{MARK}{rounds[-1]}") > ID_LENGTH:
            continue  # already one round's, nothing to split, or no room for the round
        first, *later = rounds
        bind.execute(participants.update().where(participants.c.id == person["id"])
                     .values(platform_user_id=f"{label}{MARK}{first}"))
        for round_id in later:
            # the same details: what the round had at import is not known any more
            made = bind.scalar(participants.insert().values(
                platform_user_id=f"{label}{MARK}{round_id}",
                **{c.name: person[c.name] for c in columns}).returning(participants.c.id))
            assert made is not None
            _move(bind, person["id"], made, round_id)
    _derive_row_ids(bind)


def _derive_row_ids(bind: sa.Connection) -> None:
    """Imported text answers without an id: the id an import makes of the same row now
    (bot.core.imports._row_ids). Votes were never stored twice, and their text is not kept."""
    seen: dict[tuple[int, str, str, str], int] = {}
    for row in bind.execute(
            sa.select(replies.c.id, replies.c.round_id, replies.c.prompt_id, replies.c.text,
                      participants.c.platform_user_id)
            .join(participants, participants.c.id == replies.c.participant_id)
            .where(replies.c.source == IMPORT, replies.c.external_id.is_(None),
                   replies.c.choices.is_(None), replies.c.text.is_not(None))
            .order_by(replies.c.id)).all():
        scoped = SCOPED.match(row.platform_user_id)
        label = scoped["label"] if scoped else row.platform_user_id
        key = (row.round_id, label, row.prompt_id, row.text)
        seen[key] = seen.get(key, 0) + 1
        digest = hashlib.sha256("\x1f".join((*key[1:], str(seen[key]))).encode()).hexdigest()
        bind.execute(replies.update().where(replies.c.id == row.id)
                     .values(external_id=DERIVED + digest[:32]))


def downgrade() -> None:
    """One person per label again, across rounds (as before): each label's people merge into
    the one stored first, with that one's role."""
    bind = op.get_bind()
    bind.execute(replies.update().where(
        replies.c.source == IMPORT, replies.c.external_id.startswith(DERIVED))
        .values(external_id=None))
    keepers: dict[str, int] = {}
    people = bind.execute(sa.select(participants.c.id, participants.c.platform_user_id).where(
        participants.c.platform == IMPORT).order_by(participants.c.id)).all()
    for person in people:
        if not SCOPED.match(person.platform_user_id):
            keepers[person.platform_user_id] = person.id
    for person in people:
        scoped = SCOPED.match(person.platform_user_id)
        if scoped is None:
            continue
        keeper = keepers.get(scoped["label"])
        if keeper is None:
            keepers[scoped["label"]] = person.id
            bind.execute(participants.update().where(participants.c.id == person.id)
                         .values(platform_user_id=scoped["label"]))
            continue
        _move(bind, person.id, keeper)
        bind.execute(participants.delete().where(participants.c.id == person.id))
