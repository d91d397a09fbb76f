"""A draft digest shown to a facilitator quotes people's words: once the round's answers are
deleted (the round deleted, or kept past the retention period), every copy of it still in chat
says so instead, on Slack and Teams alike."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import update

from bot.app import facilitation
from bot.app.actors import OPERATOR
from bot.core import audit
from bot.core.retention import apply_retention
from storage.database import Database
from storage.db import transaction
from storage.models import Round
from tests.adapters.harness import (
    FACILITATOR,
    Harness,
    SlackHarness,
    TeamsHarness,
)
from tests.adapters.test_every_adapter import saved_to, wait
from tests.adapters.test_walk import draft_now
from tests.helpers import day_in_words
from tests.teams_connector_stub import card_text

ANSWER = "Protected time made it work."


def _drafted(bot: Harness, database: Database) -> int:
    """Person 0 answers question 1 and the round's digest goes to review: the draft the
    facilitator is sent quotes the answer. The round's id."""
    bot.start()
    bot.write(0, ANSWER)
    wait(bot, lambda: saved_to(bot, 0), "the confirmation")
    round_id = bot.replies()[0].round_id
    draft_now(bot, database, round_id)
    assert ANSWER in bot.draft()
    return round_id


def _drafts_now(bot: Harness) -> list[str]:
    """Each draft the facilitator was sent, as it reads in their chat now."""
    if isinstance(bot, SlackHarness):
        channel = "D" + FACILITATOR
        drafts = [c for c in bot.stub.posted(channel)
                  if "For review" in json.dumps(c.params.get("blocks"))]
        now = [bot.stub.message(channel, c.answer["ts"]) for c in drafts]
        return [bot.read_message(m) if m is not None else "(deleted)" for m in now]
    assert isinstance(bot, TeamsHarness)
    calls = list(bot.stub.calls)
    read = []
    for call in bot.stub.sent_to(bot.tenant.facilitator):
        if "For review" not in card_text(call) or call.activity_id is None:
            continue
        changed = [c for c in calls if c.method == "PUT" and c.status == 200
                   and c.path.endswith("/" + call.activity_id)]
        read.append(card_text(changed[-1] if changed else call))
    return read


def _removed(bot: Harness, round_id: int) -> str:
    return (f"This draft of round {round_id}'s digest was removed on "
            f"{day_in_words(bot.app.clock())}: the round's answers were deleted.")


def test_deleting_a_round_replaces_its_drafts_in_the_facilitator_s_chat(
        bot: Harness, database: Database) -> None:
    round_id = _drafted(bot, database)
    facilitation.delete(bot.app, OPERATOR, round_id)
    assert _drafts_now(bot) == [_removed(bot, round_id)]


def test_retention_replaces_a_round_s_drafts_in_the_facilitator_s_chat(
        bot: Harness, database: Database) -> None:
    round_id = _drafted(bot, database)
    with transaction(database.sessions) as session:  # closed past the period
        session.execute(update(Round).values(status="closed",
                                             closed_at=bot.app.clock() - timedelta(days=400)))
    done = apply_retention(bot.app.database, bot.app.clock(), 365, audit.OPERATOR,
                           bot.app.gateways)
    assert done.rounds == [round_id]
    assert _drafts_now(bot) == [_removed(bot, round_id)]
