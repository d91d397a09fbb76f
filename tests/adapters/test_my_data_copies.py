"""The copy of someone's data that my-data sends them (a file on Slack, text cards on Teams)
repeats every answer they gave. On both platforms, forget-me takes it down, and so do the
deletion of any round it covers and the end of that round's retention period: a fresh
my-data gives what is left."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.app import facilitation
from bot.app.actors import OPERATOR
from bot.core import audit
from bot.core.bot_messages import MY_DATA
from bot.core.retention import apply_retention
from storage.database import Database
from storage.db import transaction
from storage.models import BotMessage, Round
from tests.adapters.harness import (
    MEMBERS,
    Harness,
    SlackHarness,
    TeamsHarness,
)
from tests.adapters.test_every_adapter import answer_text_question, wait
from tests.adapters.test_greeting_privacy import (
    ANSWER,
    _answered,
    _forget_me,
    _holding,
    _my_data,
    _round_id,
)
from tests.teams_connector_stub import card_text

SENT = "I have sent you"
"""The start of what the bot answers once the copy is sent."""


def _sent_a_copy(bot: Harness) -> None:
    """Person 0 answers question 1 and asks for their data; the copy holds the answer."""
    _answered(bot)
    assert ANSWER in _my_data(bot)
    if isinstance(bot, SlackHarness):
        stub = bot.stub
        bot.running.wait_for(lambda: [c for c in stub.calls_to("response_url")
                                      if SENT in c.params.get("text", "")], "the answer")
    else:
        assert isinstance(bot, TeamsHarness)
        member = bot.tenant.members[0]
        bot.running.wait_for(lambda: [c for c in bot.stub.sent_to(member)
                                      if SENT in card_text(c)], "the answer")
    assert _copies(bot) != []


def _told_of_my_data(bot: Harness) -> str:
    """Person 0 asks for their data: what the bot answers once the copy is sent."""
    _my_data(bot)
    if isinstance(bot, SlackHarness):
        stub = bot.stub
        return str(bot.running.wait_for(lambda: [
            c for c in stub.calls_to("response_url") if SENT in c.params.get("text", "")],
            "the answer")[0].params["text"])
    assert isinstance(bot, TeamsHarness)
    member = bot.tenant.members[0]
    return bot.running.wait_for(lambda: [card_text(c) for c in bot.stub.sent_to(member)
                                         if SENT in card_text(c)], "the answer")[0]


def _copies(bot: Harness) -> list[str]:
    """The copies of person 0's data that are still in their conversation with the bot and
    hold their answer."""
    if isinstance(bot, SlackHarness):
        return [content.decode() for shared, content in bot.stub.uploaded("D" + MEMBERS[0])
                if bot.stub.files.get(shared["id"]) and ANSWER in content.decode()]
    return [card for card in _holding(bot, ANSWER) if "audit_log" in card]


def test_forget_me_takes_down_the_copy_my_data_sent(bot: Harness) -> None:
    _sent_a_copy(bot)
    done = _forget_me(bot)
    assert done.startswith("Done. Roundtable deleted"), done
    assert _copies(bot) == []
    assert ("deleted 1 message of mine that repeated your answers and your data as my-data "
            "sent it to you.") in done, done


def test_deleting_a_round_takes_down_the_copy_of_its_answers(bot: Harness) -> None:
    _sent_a_copy(bot)
    facilitation.delete(bot.app, OPERATOR, _round_id(bot))
    assert _copies(bot) == []


def test_retention_takes_down_the_copy_of_a_round_s_answers(bot: Harness) -> None:
    _sent_a_copy(bot)
    round_id = _round_id(bot)
    assert "closed" in bot.command(f"close {round_id}")
    app = bot.app
    with transaction(app.database.sessions) as session:  # closed past the period
        session.execute(update(Round).values(closed_at=app.clock() - timedelta(days=400)))
    done = apply_retention(app.database, app.clock(), 365, audit.OPERATOR, app.gateways)
    assert done.rounds == [round_id]
    assert _copies(bot) == []
    assert done.messages_left == 0


def test_a_copy_of_my_data_lists_the_copies_sent_before_and_where_they_are(
        bot: Harness) -> None:
    _sent_a_copy(bot)
    platform = "Slack" if isinstance(bot, SlackHarness) else "Teams"
    with bot.app.database.sessions() as session:
        [sent_at] = set(session.scalars(select(BotMessage.created_at).where(
            BotMessage.kind == MY_DATA)))
    again = _my_data(bot)
    assert f'"where": "your conversation with the bot on {platform}"' in again, again
    assert f'"sent_at": "{sent_at.isoformat()}"' in again
    # the first copy, once however many messages hold it
    assert again.count("A copy of your data that you asked for with my-data") == 1


def test_a_first_copy_of_my_data_says_none_was_sent_before(bot: Harness) -> None:
    _answered(bot)
    assert '"copies_of_your_data_sent_before": []' in _my_data(bot)


def _forget_me_warning(bot: Harness) -> str:
    """Person 0 writes forget-me: the question it asks before deleting anything."""
    if isinstance(bot, SlackHarness):
        assert bot.running.slack.command(MEMBERS[0], "forget-me").status == 200
        asked = bot.running.wait_for(lambda: [c for c in bot.stub.calls_to("response_url")
                                              if "cannot be undone" in c.params.get("text", "")],
                                     "the question")
        return str(asked[0].params["text"])
    assert isinstance(bot, TeamsHarness)
    member = bot.tenant.members[0]
    bot.running.teams.chat(member, "forget-me")
    return str(bot.running.wait_for(lambda: next((card_text(c) for c in bot.stub.sent_to(member)
                                                  if "cannot be undone" in card_text(c)), None),
                                    "the forget-me card"))


def test_forget_me_counts_the_answers_it_holds_not_one_deleted(
        bot: Harness, database: Database) -> None:
    bot.start()
    answer_text_question(bot, 0, database, 1)
    answer_text_question(bot, 0, database, 2)
    bot.delete(0)
    wait(bot, lambda: [r for r in bot.replies() if r.deleted_at is not None], "the deletion")
    warned = _forget_me_warning(bot)
    assert "everything Roundtable holds about you: your one answer or vote," in warned, warned


def test_my_data_counts_the_answers_it_holds_and_says_apart_one_deleted(
        bot: Harness, database: Database) -> None:
    bot.start()
    answer_text_question(bot, 0, database, 1)
    answer_text_question(bot, 0, database, 2)
    bot.delete(0)
    wait(bot, lambda: [r for r in bot.replies() if r.deleted_at is not None], "the deletion")
    told = _told_of_my_data(bot)
    assert ("in our conversation: 1 answer, and everything else held about you, including "
            "that you deleted 1 answer (its words are gone).") in told, told
