"""people's words from Slack stored as their reader saw them, not in Slack's encoding

Slack sends message text encoded (`&lt;`, `&amp;`, `<@U123|amara>`, `<https://x|label>`).
Earlier versions stored it so; the adapter now decodes it before the core sees it. This
decodes what is already stored and came from a Slack message: the text of answers written in
Slack (source `chat`, or a ballot typed in Slack over one chosen in a form, whose text only a
message can have), their earlier versions, and answers waiting in the inbox. Answers given in
a form, imported or typed at the command line were never encoded and are left alone.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy of bot.slack.mrkdwn.to_plain as it stood at this revision: a migration must not
# change when that code does.
_CONTROL = re.compile(r"<([^<>]*)>")
_SPECIAL = {"channel", "here", "everyone"}

FROM_SLACK = (
    "FROM replies JOIN participants ON participants.id = replies.participant_id "
    "WHERE participants.platform = 'slack' AND (replies.source = 'chat' OR "
    "(replies.source = 'form' AND replies.choices IS NOT NULL "
    "AND CAST(replies.choices AS TEXT) <> 'null'))")
"""Answers whose words came from a Slack message: written there, or a ballot (chosen in a
form, whose only text is what was typed over it in a message). A JSON `null` is no ballot."""


def _plain(match: re.Match[str]) -> str:
    target, _, label = match.group(1).partition("|")
    if target.startswith(("@U", "@W", "@B")):
        return "@" + (label or target[1:])
    if target.startswith(("#C", "#G")):
        return "#" + (label or target[1:])
    if target.startswith("!subteam^"):
        return label or "@" + target.split("^", 1)[1]
    if target.startswith("!"):
        name = target[1:].split("^", 1)[0]
        return "@" + name if name in _SPECIAL else label or name
    return label or target


def decoded(text: str) -> str:
    """Slack's encoding undone: what the message's reader saw."""
    plain = _CONTROL.sub(_plain, text)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def encoded(text: str) -> str:
    """Going back: `&`, `<`, `>` as Slack encodes them (mentions and links stay as read)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def upgrade() -> None:
    _convert(decoded)


def downgrade() -> None:
    _convert(encoded)


def _convert(change: Callable[[str], str]) -> None:
    bind = op.get_bind()
    replies = bind.execute(sa.text(
        f"SELECT replies.id, replies.text {FROM_SLACK} AND replies.text IS NOT NULL")).all()
    _update(bind, "replies", [(row_id, text, change(text)) for row_id, text in replies])
    versions = bind.execute(sa.text(
        "SELECT reply_versions.id, reply_versions.text FROM reply_versions "
        f"WHERE reply_versions.text IS NOT NULL AND reply_versions.reply_id IN "
        f"(SELECT replies.id {FROM_SLACK})")).all()
    _update(bind, "reply_versions", [(row_id, text, change(text)) for row_id, text in versions])
    waiting = bind.execute(sa.text(
        "SELECT id, payload FROM inbox_events WHERE platform = 'slack'")).all()
    payloads = []
    for row_id, payload in waiting:
        event = json.loads(payload)
        # events in the application's form; Slack's own (stored by earlier versions still)
        # are translated, and so decoded, when they are handled
        if isinstance(event, dict) and event.get("kind") in ("written", "edited") \
                and isinstance(event.get("text"), str):
            after = json.dumps({**event, "text": change(event["text"])}, ensure_ascii=False)
            payloads.append((row_id, payload, after))
    _update(bind, "inbox_events", payloads, column="payload")


def _update(bind: sa.Connection, table: str, rows: list[tuple[int, str, str]],
            column: str = "text") -> None:
    changed = [{"id": row_id, "value": after} for row_id, before, after in rows
               if after != before]
    if changed:
        bind.execute(sa.text(f"UPDATE {table} SET {column} = :value WHERE id = :id"), changed)
